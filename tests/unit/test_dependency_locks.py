"""The lock files pin what pyproject.toml asks for, every pin with its hashes.

``requirements.lock`` (the image) and ``requirements-dev.lock`` (the README's
install, ``.ci/run``) are made from ``pyproject.toml`` by pip-tools; a
dependency added or tightened there without making them again fails here, not
at the next clean install.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)")


def pins(lock: str) -> dict[str, tuple[str, int]]:
    """{name: (version, number of hashes)} of a pip-compile lock file."""
    found: dict[str, tuple[str, int]] = {}
    name = None
    for line in (ROOT / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = canonicalize_name(match.group(1))
            found[name] = (match.group(2), 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
        elif line and not line.startswith(" "):
            name = None
    return found


def wanted(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    if extra:
        requirements += project["optional-dependencies"][extra]
    return [Requirement(r) for r in requirements]


@pytest.mark.parametrize(
    ("lock", "extra"), [("requirements.lock", None), ("requirements-dev.lock", "dev")]
)
def test_every_dependency_of_pyproject_is_pinned_in_its_lock_within_its_range(lock, extra):
    locked = pins(lock)
    for requirement in wanted(extra):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in {lock}: make the lock files again"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {requirement.name}=={version}, outside {requirement.specifier}"
        )


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_carries_a_hash_and_no_index_of_this_machine(lock):
    text = (ROOT / lock).read_text()
    locked = pins(lock)

    assert locked, f"{lock} pins nothing"
    assert [name for name, (_, hashes) in locked.items() if hashes == 0] == []
    assert "--index-url" not in text and "--find-links" not in text


def test_the_image_installs_the_runtime_lock_and_ci_the_dev_lock():
    assert "--require-hashes -r requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in (ROOT / ".ci" / "run").read_text()
