"""The layers hold: import-linter's contracts (pyproject.toml, ``[tool.importlinter]``).

The same check ``.ci/run`` makes with ``lint-imports``, here so ``scripts/test``
fails on a broken layer too; and proof that the check would see one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True))"
)


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LINT], cwd=project, capture_output=True, text=True, timeout=120
    )


def contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return found


def test_every_import_contract_is_kept() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Contracts: {len(contracts())} kept, 0 broken." in run.stdout


def test_the_contracts_of_issue_14_are_configured() -> None:
    forbidden = {
        (source, target)
        for contract in contracts()
        if contract["type"] == "forbidden"
        for source in contract["source_modules"]
        for target in contract["forbidden_modules"]
    }
    for layer in ("infra", "activities", "workflows", "cases", "api", "commands", "benchmarks"):
        assert ("domain", layer) in forbidden
    assert ("infra", "workflows") in forbidden
    # The case client sits above the workflow and below its callers (API, CLI, bench).
    assert ("infra", "cases") in forbidden
    assert ("activities", "cases") in forbidden
    assert ("cases", "worker") in forbidden
    layers = next(c["layers"] for c in contracts() if c["type"] == "layers")
    assert layers.index("simulation | api") < layers.index("cases") < layers.index("workflows")
    assert ("activities", "api") in forbidden
    assert ("activities", "commands") in forbidden
    assert ("benchmarks", "commands") in forbidden
    # FHIR mapping is shared by the API and the activities: pure, in interop/ (issue #15).
    for library in ("fastapi", "asyncpg", "temporalio"):
        assert ("interop", library) in forbidden


def test_a_broken_layer_is_reported(tmp_path: Path) -> None:
    """A copy of the project where domain imports infra and infra imports workflows."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package in config["tool"]["importlinter"]["root_packages"]:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "domain" / "claim.py").open("a") as module:
        module.write("\nimport infra.settings\n")
    with (tmp_path / "infra" / "member_ref.py").open("a") as module:
        module.write("\nfrom workflows import messages\n")

    run = lint_imports(tmp_path)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "domain imports no other project layer BROKEN" in run.stdout
    assert "infra does not import workflows BROKEN" in run.stdout
    assert "domain.claim -> infra.settings" in run.stdout
    assert "infra.member_ref -> workflows" in run.stdout
