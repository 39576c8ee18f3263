"""`priorauth policy impact` over cases recorded in PostgreSQL through the CaseStore activities."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta

import pytest

import cli
from activities.store import CaseStore
from domain.policy_registry import default_registry
from tests.integration.case_factories import RECEIVED, decision_input, projection
from tests.unit.factories import CHILD, request
from tests.unit.policy_drafts import CURRENT, current_data, mrd_draft, write

# Adult MRD cases by MRD %; those at 0.1 .. 0.49 approve now and would not under 0.5%.
ADULT_MRD = {"A-005": 0.05, "A-010": 0.1, "A-030": 0.3, "A-049": 0.49, "A-050": 0.5, "A-080": 0.8}


async def _case(store, case_id, req, *, status="active", n=1, received=RECEIVED, facts=True):
    await store.project_authorization(
        projection(case_id=case_id, request_id=case_id, status=status, received_at=received)
    )
    await store.record_decision(
        decision_input(
            decision_key=f"{case_id}:initial:{n}",
            case_id=case_id,
            request_id=case_id,
            received_at=received,
            request=req if facts else None,
            prior_cycles=0 if facts else None,
        )
    )


@pytest.fixture
async def seeded(db_pool):
    store = CaseStore(db_pool, default_registry())
    for case_id, mrd in ADULT_MRD.items():
        await _case(store, f"pa-{case_id}", request("adult_mrd", {"diagnosis.mrd_percent": mrd}))
    child = {"diagnosis.mrd_percent": 0.3, "member.date_of_birth": CHILD}
    await _case(store, "pa-C-030", request("adult_mrd", child))
    await _case(store, "pa-RR", request("adult_rr"), status="in_review")
    # Pended without an MRD, then given 0.2: the latest facts count.
    await _case(store, "pa-INFO", request("adult_mrd", {"diagnosis.mrd_percent": None}))
    later = request("adult_mrd", {"diagnosis.mrd_percent": 0.2})
    await _case(store, "pa-INFO", later, n=2)
    # Closed: only with --since (received on or after it).
    closed = request("adult_mrd", {"diagnosis.mrd_percent": 0.3})
    await _case(store, "pa-OLD", closed, status="completed", received=RECEIVED - timedelta(days=40))
    await _case(store, "pa-DONE", closed, status="expired")
    # Decided before decisions carried their facts.
    await _case(store, "pa-NOFACTS", None, facts=False)


async def _impact(monkeypatch, db_url, capsys, *argv):
    monkeypatch.setenv("DATABASE_URL", db_url)
    code = await asyncio.to_thread(cli.main, ["policy", "impact", *argv, "--current", str(CURRENT)])
    return code, capsys.readouterr()


async def test_raising_the_adult_mrd_threshold_lists_exactly_the_cases_between_the_thresholds(
    seeded, db_url, monkeypatch, capsys, tmp_path
):
    draft = write(tmp_path, mrd_draft(0.5))
    code, out = await _impact(monkeypatch, db_url, capsys, str(draft), "--json")

    assert code == 0
    report = json.loads(out.out)
    assert (report["current"], report["draft"]) == (
        "OHSU-HEALTHSERVICES-0382@2025-09-04",
        "OHSU-HEALTHSERVICES-0382@2026-draft",
    )
    cases = {c["case_id"]: c for c in report["cases"]}
    assert list(cases) == ["pa-A-010", "pa-A-030", "pa-A-049", "pa-INFO"]
    for case in cases.values():
        assert (case["node"], case["node_ref"]) == ("A-MRD", "III (ALL – Adult)")
        assert case["criteria"] == ["A-MRD-1"]
        assert case["before"]["determination"] == "approve"
        assert case["before"]["track"] == "mrd_positive"
        assert case["after"]["determination"] == "deny"
    summary = report["summary"]
    assert (summary["cases"], summary["changed"], summary["without_facts"]) == (9, 4, 1)
    assert summary["by_kind"]["determination"] == 4
    assert summary["by_node"] == {"A-MRD": 4}
    assert "member" not in out.out and "Smith" not in out.out


async def test_since_adds_the_closed_cases_received_from_that_day(
    seeded, db_url, monkeypatch, capsys, tmp_path
):
    draft = str(write(tmp_path, mrd_draft(0.5)))
    code, out = await _impact(monkeypatch, db_url, capsys, draft, "--json", "--since", "2026-12-01")
    changed = [c["case_id"] for c in json.loads(out.out)["cases"]]
    assert code == 0 and "pa-DONE" in changed and "pa-OLD" not in changed

    code, out = await _impact(monkeypatch, db_url, capsys, draft, "--json", "--since", "2026-10-01")
    changed = [c["case_id"] for c in json.loads(out.out)["cases"]]
    assert code == 0 and {"pa-DONE", "pa-OLD"} <= set(changed)


async def test_a_draft_identical_to_the_policy_in_force_reports_no_change(
    seeded, db_url, monkeypatch, capsys, tmp_path
):
    same = write(tmp_path, current_data())
    code, out = await _impact(monkeypatch, db_url, capsys, str(same), "--json")
    report = json.loads(out.out)
    assert code == 0
    assert (report["summary"]["cases"], report["summary"]["changed"], report["cases"]) == (9, 0, [])

    code, out = await _impact(monkeypatch, db_url, capsys, str(same), "--no-progress")
    assert code == 0 and "0 would change" in out.out


async def test_csv_for_the_committee_and_a_table_for_the_terminal(
    seeded, db_url, monkeypatch, capsys, tmp_path
):
    draft = str(write(tmp_path, mrd_draft(0.5)))
    code, out = await _impact(monkeypatch, db_url, capsys, draft, "--csv")
    rows = list(csv.DictReader(io.StringIO(out.out)))
    assert code == 0 and [r["case_id"] for r in rows][:1] == ["pa-A-010"]
    assert rows[0]["node"] == "A-MRD" and rows[0]["before_units"] == "3920"
    assert rows[0]["after_determination"] == "deny" and rows[0]["after_units"] == ""

    code, out = await _impact(monkeypatch, db_url, capsys, draft, "--no-progress")
    assert code == 0
    assert "4 would change" in out.out and "pa-A-049" in out.out and "A-MRD" in out.out


async def test_a_draft_that_does_not_load_is_one_line_and_exit_2(
    db_url, monkeypatch, capsys, tmp_path
):
    bad = tmp_path / "bad.yaml"
    bad.write_text("criteria: {id: x}\n")
    code, out = await _impact(monkeypatch, db_url, capsys, str(bad))
    assert code == 2 and out.err.startswith("error: ") and "Traceback" not in out.err
