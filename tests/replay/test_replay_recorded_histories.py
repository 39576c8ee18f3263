"""Recorded case histories still replay on the current workflow code.

tests/replay/histories/ holds every run of five representative cases
(tests/replay/record_histories.py says which and how they were made). A
change to AuthorizationWorkflow that cannot replay one of them would break
the cases running in production when it is deployed: this test fails the
build instead. Such a change goes behind ``workflow.patched``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.temporal import data_converter
from workflows import WORKFLOWS

HISTORIES = Path(__file__).resolve().parent / "histories"
FILES = sorted(HISTORIES.glob("*.json"))
RECORDED = {
    "pa-REPLAY-APPROVE-RENEW.run1.json",
    "pa-REPLAY-APPROVE-RENEW.run2.json",
    "pa-REPLAY-PEND-INFO.run1.json",
    "pa-REPLAY-REVIEW-APPEAL.run1.json",
    "pa-REPLAY-WITHDRAWN.run1.json",
    "pa-REPLAY-RUN-OUT.run1.json",
    "pa-REPLAY-DECISION-WRITES.run1.json",
}


def _history(path: Path) -> WorkflowHistory:
    workflow_id = path.name.split(".run")[0]
    return WorkflowHistory.from_json(workflow_id, path.read_text())


def _payloads(node):
    if isinstance(node, dict):
        if "metadata" in node and "data" in node:
            yield node
        for value in node.values():
            yield from _payloads(value)
    elif isinstance(node, list):
        for value in node:
            yield from _payloads(value)


def test_every_recorded_case_is_here():
    assert {p.name for p in FILES} == RECORDED


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
async def test_recorded_history_replays_without_nondeterminism(path: Path):
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter())
    result = await replayer.replay_workflow(_history(path), raise_on_replay_failure=True)
    assert result.replay_failure is None


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_recorded_history_is_plain_and_its_people_synthetic(path: Path):
    """Readable payloads (no codec), and nobody in them who could be real."""
    payloads = list(_payloads(json.loads(path.read_text())))
    assert payloads
    texts = []
    for payload in payloads:
        encoding = base64.b64decode(payload["metadata"]["encoding"]).decode()
        assert encoding in ("json/plain", "binary/null"), encoding
        texts.append(base64.b64decode(payload.get("data", "")).decode())
    people = {
        (key, value)
        for text in texts
        for obj in _objects(text)
        for key, value in obj.items()
        if key in ("first_name", "last_name", "name") and isinstance(value, str)
    }
    assert people <= {
        ("first_name", "Test"),
        ("last_name", "Member"),
        ("name", "Test Prescriber"),
    }, people
    assert ("first_name", "Test") in people


def _objects(text: str):
    """Every JSON object inside a payload's JSON text."""
    try:
        stack = [json.loads(text)]
    except ValueError:
        return
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
