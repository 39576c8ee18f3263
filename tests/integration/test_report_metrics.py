"""`priorauth report metrics` against a database seeded through the CaseStore activities."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

import cli
from activities.store import CaseStore
from domain.policy_registry import default_registry
from tests.integration.case_factories import RECEIVED, decision, decision_input

HOUR = timedelta(hours=1)


async def _seed(store: CaseStore) -> None:
    def d(case, n, kind, determination, hours, urgency="standard", received=RECEIVED, **kw):
        return decision_input(
            **kw,
            decision_key=f"{case}/{n}",
            case_id=case,
            request_id=case,
            kind=kind,
            determination=determination,
            urgency=urgency,
            received_at=received,
            decided_at=received + hours * HOUR,
        )

    for inp in [
        d("A", 1, "initial", "approve", 2),
        d("B", 1, "initial", "pend", 1),
        d("B", 2, "info", "approve", 10),
        d("C", 1, "initial", "deny", 1, decision=decision("deny", automated=False)),
        d("C", 2, "review", "deny", 4),
        d("C", 3, "appeal", "approve", 200),
        d("D", 1, "review", "deny", 6, "expedited"),
        d("D", 2, "appeal", "deny", 30, "expedited"),
        d("E", 1, "initial", "approve", 3, "expedited"),
        d("G", 1, "initial", "not_applicable", 1),
        d("H", 1, "initial", "pend", 1),
        d("I", 1, "initial", "deny", 1, decision=decision("deny", automated=False)),
        d("J", 1, "initial", "deny", 2, "expedited", decision=decision("deny", automated=True)),
        d("F", 1, "initial", "approve", 1, received=RECEIVED + timedelta(days=40)),
        d("A", 2, "renewal", "deny", 24 * 190),
    ]:
        await store.record_decision(inp)


async def _run(monkeypatch, db_url, *argv: str) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return await asyncio.to_thread(cli.main, ["report", "metrics", *argv])


@pytest.fixture
async def seeded(db_pool):
    await _seed(CaseStore(db_pool, default_registry()))


async def test_metrics_json_gives_cms_measures_per_urgency(seeded, db_url, monkeypatch, capsys):
    code = await _run(monkeypatch, db_url, "--from", "2026-12-01", "--to", "2026-12-31", "--json")

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["from"], report["to"]) == ("2026-12-01", "2026-12-31")
    standard = report["by_urgency"]["standard"]
    assert standard == {
        "requests": 4,
        "approved": 2,
        "denied": 1,
        "not_applicable": 1,
        "percent_approved": 66.7,
        "percent_denied": 33.3,
        "appealed": 1,
        "approved_after_appeal": 1,
        "percent_approved_after_appeal": 100.0,
        "average_hours_to_decision": 4.25,
        "median_hours_to_decision": 3.0,
        "extended": 0,
        "approved_after_extension": 0,
        "percent_approved_after_extension": 0.0,
    }
    expedited = report["by_urgency"]["expedited"]
    assert (expedited["requests"], expedited["percent_approved"], expedited["percent_denied"]) == (
        3,
        33.3,
        66.7,
    )
    assert (expedited["appealed"], expedited["percent_approved_after_appeal"]) == (1, 0.0)
    assert (expedited["average_hours_to_decision"], expedited["median_hours_to_decision"]) == (
        3.67,
        3.0,
    )
    overall = report["by_urgency"]["all"]
    assert overall["requests"] == 7  # I (a deny recommendation still in review) is not decided
    assert (overall["percent_approved"], overall["median_hours_to_decision"]) == (50.0, 3.0)


async def test_metrics_window_selects_by_the_final_initial_determination(
    seeded, db_url, monkeypatch, capsys
):
    await _run(monkeypatch, db_url, "--from", "2027-01-10", "--to", "2027-01-10", "--json")

    report = json.loads(capsys.readouterr().out)
    assert report["by_urgency"]["all"]["requests"] == 1  # case F only
    assert report["by_urgency"]["expedited"]["percent_approved"] is None


async def test_metrics_table_shows_each_urgency(seeded, db_url, monkeypatch, capsys):
    code = await _run(monkeypatch, db_url, "--from", "2026-12-01", "--to", "2026-12-31")

    out = capsys.readouterr().out
    assert code == 0
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "2 (66.7%)" in rows["standard"] and "1 (100%)" in rows["standard"]
    assert "0 (0%)" in rows["expedited"] and "3.67" in rows["expedited"]


async def test_metrics_refuse_a_window_that_ends_before_it_starts(db_url, monkeypatch, capsys):
    code = await _run(monkeypatch, db_url, "--from", "2026-12-31", "--to", "2026-12-01")

    assert code == 2
    assert "before" in capsys.readouterr().out


def test_metrics_help_documents_the_definitions(capsys):
    with pytest.raises(SystemExit):
        cli.main(["report", "metrics", "--help"])

    out = capsys.readouterr().out
    assert "final initial determination" in out and "approved after appeal" in out


async def _extended_cases(store: CaseStore) -> None:
    """X: review extended, then approved; Y: extended, then denied; Z: approved at once.
    Rows as the extension records them (migration 0007, domain/review_extension.py)."""

    def row(case, n, kind, determination, hours, **kw):
        return decision_input(
            decision_key=f"{case}:{kind}:{n}",
            case_id=case,
            request_id=case,
            kind=kind,
            determination=determination,
            received_at=RECEIVED,
            decided_at=RECEIVED + hours * HOUR,
            **kw,
        )

    def extension(case, n, hours):
        return row(
            case, n, "review_extension", "extended", hours, automated=False, decision=None,
            reviewer_id="rph-1", actor="rph-1", rationale="awaiting bone marrow report",
            extends_review="initial", due_at=RECEIVED + (72 + 14 * 24) * HOUR,
        )  # fmt: skip

    for inp in [
        row("X", 1, "initial", "review", 1),
        extension("X", 2, 60),
        row("X", 3, "review", "approve", 200, automated=False, reviewer_id="rph-1"),
        row("Y", 1, "initial", "deny", 1, decision=decision("deny", automated=False)),
        extension("Y", 2, 50),
        row("Y", 3, "review", "deny", 150, automated=False, reviewer_id="rph-1"),
        row("Z", 1, "initial", "approve", 2),
    ]:
        await store.record_decision(inp)


async def test_metrics_count_requests_approved_after_an_extended_review(
    db_pool, db_url, monkeypatch, capsys
):
    await _extended_cases(CaseStore(db_pool, default_registry()))
    capsys.readouterr()  # the store's log lines
    code = await _run(monkeypatch, db_url, "--from", "2026-12-01", "--to", "2026-12-31", "--json")

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    standard = report["by_urgency"]["standard"]
    assert (standard["requests"], standard["approved"], standard["denied"]) == (3, 2, 1)
    assert (standard["extended"], standard["approved_after_extension"]) == (2, 1)
    assert standard["percent_approved_after_extension"] == 33.3
    assert report["by_urgency"]["expedited"]["percent_approved_after_extension"] is None
    assert report["items_requiring_prior_authorization"] == [
        {
            "hcpcs": "J9039",
            "description": "Injection, blinatumomab, 1 microgram; 1 billable unit = 1 microgram",
            "ndc_products": ["55513-0160"],
            "policy": "OHSU-HEALTHSERVICES-0382@2025-09-04",
            "title": "Blinicyto (blinatumomab) (Intravenous)",
            "effective_from": "2025-09-04",
        }
    ]

    code = await _run(monkeypatch, db_url, "--from", "2026-12-01", "--to", "2026-12-31", "--csv")
    rows = capsys.readouterr().out.splitlines()
    assert code == 0 and rows[0] == "measure,urgency,value,detail"
    assert "percent_approved_after_extension,standard,33.3," in rows
    assert any(r.startswith("item_requiring_prior_authorization,,J9039,") for r in rows)

    code = await _run(monkeypatch, db_url, "--from", "2026-12-01", "--to", "2026-12-31")
    table = capsys.readouterr().out
    assert code == 0 and "1 (33.3%)" in table and "J9039" in table


async def test_a_review_is_extended_once(db_pool):
    import asyncpg

    store = CaseStore(db_pool, default_registry())
    await _extended_cases(store)
    again = decision_input(
        decision_key="X:review_extension:9", case_id="X", request_id="X",
        kind="review_extension", determination="extended", automated=False, decision=None,
        rationale="more time", extends_review="initial", due_at=RECEIVED,
    )  # fmt: skip
    with pytest.raises(asyncpg.UniqueViolationError):
        await store.record_decision(again)
    reasonless = again.model_copy(update={"decision_key": "X:e:10", "extends_review": "appeal"})
    reasonless = reasonless.model_copy(update={"rationale": None})
    with pytest.raises(asyncpg.CheckViolationError):
        await store.record_decision(reasonless)
