"""Outside dev and test, the worker and the API refuse to start without real keys.

The real entry points run as child processes (``python worker.py`` and ``uvicorn
api.main:app``) in an empty directory with only the environment given here: each
must exit non-zero with one line on stderr and no traceback, before it connects
to anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.codec import format_key, generate_key
from infra.devserver import free_port

ROOT = Path(__file__).resolve().parents[2]
KEYS = format_key("k1", generate_key())
MEMBER_REF_KEY = "a-member-ref-key-of-thirty-two-characters-or-more"

WORKER = [sys.executable, str(ROOT / "worker.py")]


def api() -> list[str]:
    return [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(free_port())]


def _run(argv: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        # Nothing to reach: a process that got past the check would fail differently.
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/none",
    }
    return subprocess.run(
        argv, cwd=tmp_path, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def _refused(run: subprocess.CompletedProcess[str], program: str) -> str:
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert lines[0].startswith(f"{program}: refusing to start (PRIORAUTH_ENV=production): ")
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "program"),
    [(WORKER, "priorauth worker"), (None, "priorauth api")],
    ids=["worker", "api"],
)
def test_without_keys_the_entry_points_refuse_to_start_in_one_line(argv, program, tmp_path):
    run = _run(argv or api(), tmp_path)  # PRIORAUTH_ENV unset: production is the default

    line = _refused(run, program)
    assert "CODEC_KEYS is empty" in line
    assert "MEMBER_REF_KEY is the public development default" in line


@pytest.mark.parametrize(
    ("argv", "program"),
    [(WORKER, "priorauth worker"), (None, "priorauth api")],
    ids=["worker", "api"],
)
def test_codec_keys_none_is_refused_outside_dev(argv, program, tmp_path):
    run = _run(
        argv or api(),
        tmp_path,
        PRIORAUTH_ENV="production",
        CODEC_KEYS="none",
        MEMBER_REF_KEY=MEMBER_REF_KEY,
    )

    line = _refused(run, program)
    assert "CODEC_KEYS=none (no encryption) is allowed only with PRIORAUTH_ENV=dev" in line
    assert "MEMBER_REF_KEY" not in line


def test_the_public_member_ref_key_alone_is_refused(tmp_path):
    run = _run(WORKER, tmp_path, PRIORAUTH_ENV="production", CODEC_KEYS=KEYS)

    line = _refused(run, "priorauth worker")
    assert "MEMBER_REF_KEY is the public development default" in line
    assert "CODEC_KEYS" not in line
    assert KEYS.split(":")[1] not in run.stderr  # no key material in the refusal


def test_a_plain_http_or_unsigned_webhook_is_refused_in_production(tmp_path):
    run = _run(
        WORKER,
        tmp_path,
        PRIORAUTH_ENV="production",
        CODEC_KEYS=KEYS,
        MEMBER_REF_KEY=MEMBER_REF_KEY,
        NOTIFY_CHANNEL="webhook",
        NOTIFY_WEBHOOK_URL="http://receiver.example/notices",
    )

    line = _refused(run, "priorauth worker")
    assert "NOTIFY_WEBHOOK_URL must be https" in line and "NOTIFY_WEBHOOK_SECRET" in line


def test_a_webhook_without_its_signing_secret_stops_the_worker_in_one_line_in_dev_too(tmp_path):
    run = _run(
        WORKER,
        tmp_path,
        PRIORAUTH_ENV="dev",
        NOTIFY_CHANNEL="webhook",
        NOTIFY_WEBHOOK_URL="http://127.0.0.1:9/notices",
    )

    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1] == (
        "priorauth worker: NOTIFY_CHANNEL=webhook needs NOTIFY_WEBHOOK_SECRET"
    )


def test_an_unknown_environment_name_is_one_line_too(tmp_path):
    run = _run(WORKER, tmp_path, PRIORAUTH_ENV="prod")

    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "priorauth worker: invalid settings: PRIORAUTH_ENV: Input should be 'dev', 'test' "
        "or 'production'"
    ]


def test_with_real_keys_the_worker_gets_past_the_check(tmp_path):
    run = _run(
        WORKER,
        tmp_path,
        PRIORAUTH_ENV="production",
        CODEC_KEYS=KEYS,
        MEMBER_REF_KEY=MEMBER_REF_KEY,
    )

    # It went on to connect (nothing listens there), so the refusal is not what stopped it.
    assert run.returncode != 0
    assert "refusing to start" not in run.stderr
