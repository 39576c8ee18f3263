"""scripts/test, the README's test command: its decisions, with the system around it stubbed.

The script is sourced (it then only defines its functions) in a bash whose PATH
holds stubs for `id`, `sudo` and `apt-get`, so nothing is installed and no
privilege is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "test"


def _bash(snippet: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", f'source "{SCRIPT}"; {snippet}'],
        cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _system(tmp_path: Path, *, uid: int, sudo: bool) -> tuple[Path, Path]:
    """A PATH of stubs: `id -u` says ``uid``; apt-get (and sudo, if any) log their calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    _stub(bin_dir, "id", f"echo {uid}")
    _stub(bin_dir, "apt-get", f'echo "apt-get $*" >> "{calls}"')
    _stub(bin_dir, "env", 'while [ "${1#*=}" != "$1" ]; do shift; done; exec "$@"')
    if sudo:
        _stub(bin_dir, "sudo", f'echo "sudo $*" >> "{calls}"; [ "$1" = -n ] && shift; exec "$@"')
    return bin_dir, calls


def test_a_run_that_collects_no_tests_fails_with_pytests_status_5() -> None:
    result = _bash("run_pytest -q -p no:cacheprovider -k no_such_test tests/unit/test_terms.py")

    assert result.returncode == 5, result.stdout + result.stderr
    assert "ran no tests" in result.stderr


def test_without_root_or_sudo_it_says_what_is_missing_and_installs_nothing(tmp_path) -> None:
    bin_dir, calls = _system(tmp_path, uid=1000, sudo=False)

    result = _bash("ensure_browser", path=str(bin_dir))

    assert result.returncode != 0
    assert "missing: chromium chromedriver" in result.stderr
    assert "root or sudo" in result.stderr
    assert not calls.exists()


def test_without_root_it_installs_the_browser_through_sudo_without_prompting(tmp_path) -> None:
    bin_dir, calls = _system(tmp_path, uid=1000, sudo=True)

    _bash("ensure_browser", path=str(bin_dir))

    lines = calls.read_text().splitlines()
    assert lines[0] == "sudo -n apt-get update -qq"  # no terminal (CI): sudo must not prompt
    update, install = [line for line in lines if line.startswith("apt-get")]
    assert update.startswith("apt-get update")
    assert install.startswith("apt-get install -y")
    assert install.split()[-2:] == ["chromium", "chromium-driver"]
