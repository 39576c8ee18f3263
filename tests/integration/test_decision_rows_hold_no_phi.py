"""PostgreSQL holds no PHI in the facts a decision row keeps (decisions.request, migration
0007): the request as the criteria read it, without the member's name, member id or date
of birth (domain/decision_facts.py; README, Security); nor in its decision JSON, trace
and reasons, where an age criterion records the age it computed (domain/criteria.py).
Recorded through the CaseStore and CaseDecisions activities as the workflow records
them, then every column of every decision row is read back as text and searched for
each PHI value; the facts are there (so the check is not vacuous) and `priorauth policy
impact` re-decides them."""

from __future__ import annotations

from datetime import date

import asyncpg

from activities.channels import LogChannel
from activities.decisions import CaseDecisions
from activities.evaluation import EvaluationActivities
from activities.models import (
    DecideRenewalInput,
    DecideRequestInput,
    DecisionRecordContext,
    EvaluateRequestInput,
)
from activities.notifications import Notifier
from activities.outbox import CaseOutbox
from activities.store import CaseStore
from domain.decision_facts import request_of
from domain.engine import choose
from domain.policy import load_policy
from domain.policy_registry import default_registry
from domain.renewal import RenewalInput
from tests.integration.case_factories import RECEIVED, decision_input, projection
from tests.unit.factories import START, born, request

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


MAINTENANCE = {  # an adult-only path: a child is not met on A0 (a deny recommendation)
    "therapy.setting": "maintenance",
    "diagnosis.relapsed_or_refractory": False,
    "diagnosis.complete_remission": "first",
}


def _dob_forms(dob: str) -> dict[str, str]:
    day = date.fromisoformat(dob)
    return {
        "date of birth": dob,
        "date of birth, undashed": day.strftime("%Y%m%d"),
        "date of birth, US": day.strftime("%m/%d/%Y"),
    }


def _node(trace: dict, node_id: str) -> dict:
    if trace.get("id") == node_id:
        return trace
    for child in trace.get("children") or []:
        found = _node(child, node_id)
        if found:
            return found
    return {}


async def test_no_decision_row_trace_or_reason_holds_a_date_of_birth(db_pool):
    """The engine's own rows, through CaseDecisions as the workflow records them: the
    decision JSON, its trace and reasons show each age criterion's age on the evaluation
    day (A0; P0-MIN, P0-MAX), never the date of birth it was computed from."""
    registry = default_registry()
    store = CaseStore(db_pool, registry)
    outbox = CaseOutbox(db_pool, store, Notifier(db_pool, LogChannel(), registry))
    decisions = CaseDecisions(EvaluationActivities(registry), store, db_pool, outbox)
    cases = {
        "PHI-ADULT": request("adult_mrd", {"member.date_of_birth": DOB.isoformat()}),
        "PHI-UNDERAGE": request("adult_rr", {**MAINTENANCE, "member.date_of_birth": born(10)}),
        "PHI-CHILD": request("ped_rr_single_ph_neg", {"member.date_of_birth": born(5, 3)}),
    }
    for request_id, req in cases.items():
        req = req.model_copy(update={"request_id": request_id})
        await decisions.decide_request(
            DecideRequestInput(
                evaluation=EvaluateRequestInput(request=req, as_of=RECEIVED.date()),
                record=DecisionRecordContext(
                    decision_key=f"pa-{request_id}:initial:1",
                    case_id=f"pa-{request_id}",
                    kind="initial",
                    decided_at=RECEIVED,
                ),
            )
        )
    renewed = request("adult_rr", {"member.date_of_birth": DOB.isoformat()})
    await decisions.decide_renewal(
        DecideRenewalInput(
            renewal=RenewalInput(
                request=renewed.model_copy(update={"request_id": "PHI-ADULT"}),
                track="relapsed_refractory",
                renewals_used=0,
                period_start=START,
                period_end=date(2027, 6, 30),
                as_of=date(2027, 5, 31),
            ),
            record=DecisionRecordContext(
                decision_key="pa-PHI-ADULT:renewal:1",
                case_id="pa-PHI-ADULT",
                kind="renewal",
                decided_at=RECEIVED,
            ),
        )
    )

    rows = await _rows_as_text(db_pool)
    assert len(rows) == 4
    for row in rows:
        for req in [*cases.values(), renewed]:
            for what, value in _dob_forms(req.member.date_of_birth.isoformat()).items():
                assert value not in row, f"the {what} is in a decision row"
    by_key = {
        r["decision_key"]: r
        for r in await db_pool.fetch("SELECT decision_key, decision, trace, reasons FROM decisions")
    }
    adult_row = by_key["pa-PHI-ADULT:initial:1"]
    # The trace is kept once, in its column; the decision JSON does not repeat it.
    assert adult_row["decision"].get("trace") is None
    assert _node(adult_row["trace"], "A0")["value"] == {"years": 55}  # the facts are there
    assert _node(by_key["pa-PHI-ADULT:renewal:1"]["trace"], "A0")["value"] == {"years": 56}
    child = by_key["pa-PHI-CHILD:initial:1"]["trace"]
    assert _node(child, "P0-MIN")["value"] == {"years": 5, "months": 63}
    assert _node(child, "P0-MAX")["value"] == {"years": 5}
    underage = by_key["pa-PHI-UNDERAGE:initial:1"]
    assert _node(underage["trace"], "A0")["verdict"] == "not_met"
    assert any("age 10, below 18" in r["text"] for r in underage["reasons"]), underage["reasons"]
