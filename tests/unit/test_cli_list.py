"""`priorauth list` in an 80-column terminal: the case id is never cut; other columns give way."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from commands.cases import _list

CASES = [
    {"case_id": "pa-DEMO-1006", "status": "renewal_window", "track": "relapsed_refractory",
     "period_end": "2026-12-20", "renewals_used": 1, "escalated": False,
     "execution_status": "running"},
    {"case_id": "pa-DEMO-1012", "status": "in_review", "track": None, "period_end": None,
     "renewals_used": 0, "escalated": True, "execution_status": "running"},
    {"case_id": "pa-E2E-0123456789abcdef", "status": "not_applicable",
     "track": "frontline_induction", "period_end": "2027-01-31", "renewals_used": 0,
     "escalated": False, "execution_status": "continued_as_new"},
]  # fmt: skip


class FakeApi:
    def cases(self, **_: Any) -> dict[str, Any]:
        return {"cases": CASES}


def _args() -> argparse.Namespace:
    return argparse.Namespace(
        status=None, track=None, escalated=None, period_end_before=None,
        period_end_after=None, limit=100, json=False,
    )  # fmt: skip


@pytest.mark.parametrize("columns", [80, 60])
def test_case_ids_are_printed_whole_in_a_narrow_terminal(monkeypatch, capsys, columns) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))

    assert _list(_args(), FakeApi()) == 0

    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= columns
    for case in CASES:
        assert any(case["case_id"] in line for line in lines), (case["case_id"], lines)
