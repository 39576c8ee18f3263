"""PostgreSQL holds no PHI in the facts a decision row keeps (decisions.request, migration
0007): the request as the criteria read it, without the member's name, member id or date
of birth (domain/decision_facts.py; README, Security). Recorded through the CaseStore
activity as the workflow records it, then every column of every decision row is read
back as text and searched for each PHI value; the facts are there (so the check is not
vacuous) and `priorauth policy impact` re-decides them."""

from __future__ import annotations

from datetime import date

import asyncpg

from activities.store import CaseStore
from domain.decision_facts import request_of
from domain.engine import choose
from domain.policy import load_policy
from domain.policy_registry import default_registry
from tests.integration.case_factories import RECEIVED, decision_input, projection
from tests.unit.factories import request

FIRST, LAST, MEMBER_ID = "Wilhelmina", "Sturtevant-Okafor", "MBR-8L2K6P0D"
DOB = date(1971, 3, 14)
PHI = {
    "first name": FIRST,
    "last name": LAST,
    "member id": MEMBER_ID,
    "date of birth": DOB.isoformat(),
    "date of birth, undashed": DOB.strftime("%Y%m%d"),
    "date of birth, US": DOB.strftime("%m/%d/%Y"),
}


async def _rows_as_text(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT row_to_json(d)::text AS row FROM decisions d ORDER BY id")
    return [r["row"] for r in rows]


async def test_a_decision_row_keeps_the_facts_without_the_members_identity(db_pool):
    store = CaseStore(db_pool, default_registry())
    req = request(
        "adult_mrd",
        {
            "member.first_name": FIRST,
            "member.last_name": LAST,
            "member.member_id": MEMBER_ID,
            "member.date_of_birth": DOB.isoformat(),
            "diagnosis.mrd_percent": 0.3,
        },
    )
    await store.project_authorization(
        projection(case_id="pa-PHI-1", request_id="PHI-1", received_at=RECEIVED)
    )
    await store.record_decision(
        decision_input(
            decision_key="pa-PHI-1:initial:1",
            case_id="pa-PHI-1",
            request_id="PHI-1",
            request=req,
            prior_cycles=0,
        )
    )

    rows = await _rows_as_text(db_pool)
    assert len(rows) == 1
    for what, value in PHI.items():
        assert value not in rows[0], f"the {what} is in decisions"
    stored = await db_pool.fetchval("SELECT request FROM decisions")
    assert stored["diagnosis"]["mrd_percent"] == 0.3  # the facts are kept
    assert stored["member"] == {
        "state": req.member.state,
        "age_at_period_start": {"years": 55, "months": 668},
    }
    policy = load_policy()
    assert choose(request_of(stored), policy).determination == choose(req, policy).determination
