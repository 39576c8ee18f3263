"""CaseStore against a real PostgreSQL: each write repeated gives one row."""

from __future__ import annotations

import asyncpg
import pytest

from activities.models import MemberHistoryInput
from activities.store import CaseStore
from domain.policy_registry import default_registry
from tests.integration.case_factories import clinical_event, decision_input, period, projection


@pytest.fixture
def store(db_pool) -> CaseStore:
    return CaseStore(db_pool, default_registry())


async def test_repeated_decision_write_keeps_one_row(store, db_pool):
    inp = decision_input()

    first = await store.record_decision(inp)
    second = await store.record_decision(inp)

    assert (first.inserted, second.inserted) == (True, False)
    assert await db_pool.fetchval("SELECT count(*) FROM decisions") == 1


async def test_decision_row_holds_reasons_trace_and_policy_version(store, db_pool):
    inp = decision_input(kind="review", automated=False, reviewer_id="rph-1", rationale="ok")

    await store.record_decision(inp)

    row = await db_pool.fetchrow("SELECT * FROM decisions")
    assert row["reasons"] == [
        {"code": "criteria_met", "policy_ref": "III (ALL – Adult)", "text": "A-RR met"}
    ]
    assert row["trace"]["children"][0]["id"] == "A0"
    assert row["trace"]["children"][0]["value"] == 46
    assert row["decision"]["determination"] == "approve"
    assert (row["policy_id"], row["policy_version"]) == ("OHSU-HEALTHSERVICES-0382", "2025-09-04")
    assert (row["kind"], row["automated"], row["reviewer_id"]) == ("review", False, "rph-1")
    assert row["decided_at"] == inp.decided_at


async def test_explicit_reasons_and_trace_win_over_the_decisions(store, db_pool):
    reasons = [{"code": "reviewer", "policy_ref": "III", "text": "reviewed"}]
    await store.record_decision(decision_input(reasons=reasons, trace={"id": "t"}))

    row = await db_pool.fetchrow("SELECT reasons, trace FROM decisions")
    assert (row["reasons"], row["trace"]) == (reasons, {"id": "t"})


async def test_decisions_of_one_case_are_appended_in_order(store, db_pool):
    await store.record_decision(decision_input(determination="pend"))
    await store.record_decision(
        decision_input(decision_key="pa-REQ-1/info/1", kind="info", determination="approve")
    )

    rows = await db_pool.fetch("SELECT kind, determination FROM decisions ORDER BY id")
    assert [tuple(r) for r in rows] == [("initial", "pend"), ("info", "approve")]


async def test_recorded_decisions_cannot_be_changed_or_deleted(store, db_pool):
    await store.record_decision(decision_input())

    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db_pool.execute("UPDATE decisions SET determination = 'deny'")
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db_pool.execute("DELETE FROM decisions")


async def test_projection_is_replaced_only_by_a_newer_version(store, db_pool):
    assert (await store.project_authorization(projection(version=2, status="active"))).inserted
    stale = await store.project_authorization(projection(version=1, status="pended"))
    repeated = await store.project_authorization(projection(version=2, status="expired"))
    newer = await store.project_authorization(
        projection(version=3, status="renewal_window", renewals_used=1, cycles_started=5)
    )

    assert (stale.inserted, repeated.inserted, newer.inserted) == (False, False, True)
    row = await db_pool.fetchrow("SELECT * FROM authorizations")
    assert (row["version"], row["status"], row["renewals_used"], row["cycles_started"]) == (
        3,
        "renewal_window",
        1,
        5,
    )
    assert row["periods"][0]["start"] == "2026-12-03"
    assert await db_pool.fetchval("SELECT count(*) FROM authorizations") == 1


async def test_repeated_clinical_event_keeps_one_row(store, db_pool):
    inp = clinical_event()

    results = [await store.record_clinical_event(inp) for _ in range(3)]

    assert [r.inserted for r in results] == [True, False, False]
    row = await db_pool.fetchrow("SELECT * FROM clinical_events")
    assert (row["event_id"], row["type"], row["event"]["toxicity"]) == (
        "EV-9",
        "toxicity",
        {"kind": "crs", "grade": 3},
    )


async def test_the_same_event_id_in_another_case_is_its_own_row(store, db_pool):
    await store.record_clinical_event(clinical_event())
    await store.record_clinical_event(clinical_event(case_id="pa-REQ-2"))

    assert await db_pool.fetchval("SELECT count(*) FROM clinical_events") == 2


async def test_member_history_counts_cycles_of_the_members_other_cases_only(store):
    await store.project_authorization(projection(case_id="pa-A", cycles_started=3))
    await store.project_authorization(projection(case_id="pa-B", cycles_started=2))
    await store.project_authorization(
        projection(case_id="pa-C", member_ref="m_someone_else", cycles_started=4)
    )

    current = await store.member_history(
        MemberHistoryInput(member_ref="m_member1", exclude_case_id="pa-B")
    )
    everything = await store.member_history(MemberHistoryInput(member_ref="m_member1"))
    stranger = await store.member_history(MemberHistoryInput(member_ref="m_nobody"))

    assert (current.prior_cycles, everything.prior_cycles, stranger.prior_cycles) == (3, 5, 0)


async def test_member_history_counts_the_cycles_a_case_numbered_on_from_prior_therapy(store):
    """Section I, prior therapy: a case granted from cycle 4 that started 3 reached cycle 6."""
    await store.project_authorization(
        projection(case_id="pa-A", periods=[period(first_cycle=4, cycles=3)], cycles_started=3)
    )
    await store.project_authorization(projection(case_id="pa-B", cycles_started=0))

    history = await store.member_history(
        MemberHistoryInput(member_ref="m_member1", exclude_case_id="pa-B")
    )

    assert history.prior_cycles == 6


async def test_projection_takes_units_paid_from_the_cases_ledger_lines(store, db_pool):
    await db_pool.execute(
        """
        INSERT INTO claim_lines (claim_id, line, case_id, member_ref, date_of_service, units,
                                 status, allowed_units, denied_units, answer, line_json,
                                 policy_id)
        VALUES ('CLM-1', 1, 'pa-REQ-1', 'm_member1', '2026-12-03', 28, 'paid', 28, 0, '{}', '{}',
                'OHSU-HEALTHSERVICES-0382'),
               ('CLM-2', 1, 'pa-OTHER', 'm_member1', '2026-12-03', 28, 'paid', 28, 0, '{}', '{}',
                'OHSU-HEALTHSERVICES-0382')
        """
    )

    await store.project_authorization(projection(version=1))

    assert await db_pool.fetchval("SELECT units_paid FROM authorizations") == 28
