"""Workflow code stays deterministic (DESIGN.md, Temporal specifics).

The worker passes ``workflows/`` through the sandbox (``worker.workflow_runner``),
so the sandbox's import-time proxies no longer catch a wall-clock read or a
random number in workflow code; this reads the code instead. (Every workflow
test's history is also replayed, under the default sandbox.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from worker import WORKFLOW_CODE

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN_CALLS = {
    ("datetime", "now"): "workflow.now()",
    ("datetime", "utcnow"): "workflow.now()",
    ("datetime", "today"): "workflow.now()",
    ("date", "today"): "workflow.now()",
    ("time", "time"): "workflow.now()",
    ("time", "monotonic"): "workflow.now()",
    ("time", "sleep"): "workflow.sleep() or a timer",
    ("uuid", "uuid4"): "workflow.uuid4()",
    ("uuid", "uuid1"): "workflow.uuid4()",
    ("os", "getenv"): "the case's config (CaseInput)",
    ("os", "urandom"): "workflow.random()",
}
FORBIDDEN_MODULES = {"random", "time", "os", "socket", "threading", "subprocess", "requests"}
FORBIDDEN_NAMES = {"open": "an activity", "input": "an activity", "print": "workflow.logger"}


def _workflow_files() -> list[Path]:
    # Client-side code (starting cases, sending messages) lives in cases/, not here.
    return [
        p for pkg in WORKFLOW_CODE for p in sorted((ROOT / pkg.replace(".", "/")).rglob("*.py"))
    ]


def _problems(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            found += [
                f"line {node.lineno}: imports {n}"
                for n in names
                if n.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                use = FORBIDDEN_CALLS.get((func.value.id, func.attr))
                if use:
                    found.append(f"line {node.lineno}: {func.value.id}.{func.attr}() (use {use})")
            elif isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
                found.append(f"line {node.lineno}: {func.id}() (use {FORBIDDEN_NAMES[func.id]})")
    return found


@pytest.mark.parametrize("path", _workflow_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_code_reads_no_clock_randomness_or_io(path: Path) -> None:
    assert _problems(path.read_text()) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "from datetime import datetime\nx = datetime.now()",
        "import random\n",
        "import time\n",
        "import uuid\nx = uuid.uuid4()",
        "with open('f') as f: pass",
        "from os import environ",
    ],
)
def test_the_guard_finds_what_a_sandbox_would_have(snippet: str) -> None:
    assert _problems(snippet) != []


def test_the_guard_reads_every_workflow_module() -> None:
    names = {p.name for p in _workflow_files()}
    assert {"authorization.py", "aggregate.py", "deadlines.py", "transitions.py"} <= names
