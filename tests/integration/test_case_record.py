"""After a whole case, PostgreSQL alone answers what happened, even when every write was retried.

The real workflow runs on the time-skipping Temporal server with the real
activities against the test's database; each PostgreSQL activity does its
work and then, on its first attempt, fails as a worker would that died before
reporting: Temporal retries it. Done when (issue #5): every decision with its
reasons and trace, every claim answer, every notice is in PostgreSQL, once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.channels import Notice
from activities.claims_ledger import ClaimsLedger
from activities.decisions import CaseDecisions
from activities.evaluation import EvaluationActivities
from activities.notifications import Notifier
from activities.outbox import CaseOutbox, OutboxDispatcher
from activities.store import CaseStore
from domain.policy import load_policy
from domain.policy_registry import default_registry
from domain.scenario import Scenario
from infra.settings import Settings


class CountingChannel:
    name = "counting"

    def __init__(self) -> None:
        self.delivered: list[Notice] = []

    async def deliver(self, notice: Notice) -> None:
        self.delivered.append(notice)


def retried_after_success(fn: Callable[..., Any], injected: Counter) -> Callable[..., Any]:
    """The activity ``fn`` doing its work, then failing its first attempt anyway."""
    name = fn.__temporal_activity_definition.name

    @functools.wraps(fn)
    async def wrapper(*args: Any) -> Any:
        result = await fn(*args)
        if activity.info().attempt == 1:
            injected[name] += 1
            raise ApplicationError("injected: the worker died before reporting")
        return result

    wrapper.__dict__.pop("__temporal_activity_definition", None)
    return activity.defn(name=name)(wrapper)


REQUEST = {
    # A 16-year-old meeting every adult frontline-induction criterion: AYA review
    # (POLICY.md Section III, ages), so a reviewer denies and another approves on appeal.
    "received_at": "2026-12-01T09:00:00Z",
    "urgency": "standard",
    "line_of_business": "commercial",
    "member": {"member_id": "M-REC-1", "date_of_birth": "2010-06-01", "state": "OR"},
    "service": {"hcpcs": "J9039", "ndc": "55513-0160-01", "requested_start": "2026-12-03"},
    "diagnosis": {
        "icd10_codes": ["C91.00"],
        "b_cell_precursor": True,
        "infant_all": False,
        "ph_status": "positive",
        "relapsed_or_refractory": False,
        "tki_status": "responsive",
    },
    "therapy": {
        "setting": "frontline_induction",
        "combined_with": ["tki"],
        "tki": "dasatinib",
        "prior_blinatumomab_cycles": 0,
    },
    "clinical": {
        "weight_kg": 60.0,
        "height_cm": 165.0,
        "live_vaccine_within_2_weeks": False,
        "live_vaccine_planned": False,
    },
}


def _claim(claim_id: str, day: int, dos: str, units: int, **extra: Any) -> dict[str, Any]:
    line = {
        "claim_id": claim_id,
        "line": 1,
        "member_id": "M-REC-1",
        "date_of_service": dos,
        "hcpcs": "J9039",
        "ndc": "55513-0160-01",
        "units": units,
        "icd10_codes": ["C91.00"],
        **extra,
    }
    return {"day": day, "action": "claim", "claim": line}


def _scenario() -> Scenario:
    review = {"action": "decide_review"}
    return Scenario.model_validate(
        {
            "request": {**REQUEST, "request_id": f"REQ-REC-{uuid.uuid4().hex[:8]}"},
            "events": [
                {
                    **review,
                    "day": 1,
                    "reviewer": "rph-1",
                    "determination": "deny",
                    "rationale": "not supported",
                },
                {"day": 20, "action": "appeal", "reason": "oncologist's letter"},
                {
                    **review,
                    "day": 21,
                    "reviewer": "md-2",
                    "determination": "approve",
                    "rationale": "AYA protocol supported",
                },
                _claim("CLM-R1", 22, "2026-12-23", 35),
                _claim("CLM-R2", 23, "2026-12-24", 900),
                _claim("CLM-R2", 23, "2026-12-24", 900),
                _claim("CLM-R3", 24, "2026-12-25", 200),
                _claim("CLM-R2", 26, "2026-12-24", 900, reversal=True),
                {
                    "day": 27,
                    "action": "clinical_event",
                    "event": {
                        "event_id": "EV-1",
                        "type": "response_assessment",
                        "date": "2026-12-27",
                        "response_assessment": {"result": "stable", "method": "cbc"},
                    },
                },
            ],
            "until_day": 40,
        }
    )


async def test_after_a_case_with_every_write_retried_postgres_alone_tells_it_once(
    time_skipping_env, db_pool, task_queue
):
    from simulation.runner import run_scenario
    from workflows import WORKFLOWS

    policy = load_policy()
    channel = CountingChannel()
    injected: Counter = Counter()
    evaluation = EvaluationActivities(default_registry())
    store = CaseStore(db_pool, default_registry())
    notifier = Notifier(db_pool, channel, default_registry(), backoff_base=0.01)
    dispatcher = OutboxDispatcher(db_pool, notifier, poll_seconds=0.1)
    outbox = CaseOutbox(db_pool, store, notifier, dispatcher)
    stored = [
        *CaseDecisions(evaluation, store, db_pool, outbox).activities(),
        *store.activities(),
        *ClaimsLedger(db_pool, default_registry()).activities(),
        *outbox.activities(),
    ]
    activities = [
        *evaluation.activities(),
        *(retried_after_success(a, injected) for a in stored),
    ]
    scenario = _scenario()
    settings = Settings(notify_channel="log")
    dispatching = asyncio.create_task(dispatcher.run())
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=2),
    ):
        run = await run_scenario(
            time_skipping_env, scenario, task_queue=task_queue, settings=settings
        )
        with contextlib.suppress(RPCError):
            await time_skipping_env.client.get_workflow_handle(run.workflow_id).terminate(
                "test over"
            )
    case = run.workflow_id
    result = run.result
    # The outbox's dispatcher delivers what the case wrote; then it stops.
    await dispatcher.dispatch_once()
    await dispatcher.drain()
    dispatching.cancel()

    # The retries really happened, for every kind of write.
    assert set(injected) >= {
        "decide_request",
        "record_decision",
        "write_effects",  # the notices (into the outbox) and the projection
        "adjudicate_claim",
        "record_clinical_event",
    }

    decisions = await db_pool.fetch(
        "SELECT kind, determination, reviewer_id, reasons, trace, rationale, policy_version"
        " FROM decisions WHERE case_id = $1 ORDER BY id",
        case,
    )
    kinds = [(d["kind"], d["determination"]) for d in decisions]
    assert kinds.count(("review", "deny")) == 1 and kinds.count(("appeal", "approve")) == 1
    assert decisions[0]["kind"] == "initial" and decisions[0]["trace"] is not None
    # The reviewers decided on the engine's recommendation: their rows carry its trace.
    assert all(
        d["trace"] == decisions[0]["trace"] for d in decisions if d["kind"] in ("review", "appeal")
    )
    assert all(d["reasons"] or d["rationale"] for d in decisions)
    assert {d["reviewer_id"] for d in decisions if d["kind"] == "appeal"} == {"md-2"}
    assert all(d["policy_version"] == policy.version for d in decisions)

    answers = [
        json.dumps(r["answer"], sort_keys=True)
        for r in await db_pool.fetch(
            "SELECT answer FROM claim_lines WHERE case_id = $1"
            " UNION ALL SELECT answer FROM claim_line_rejections WHERE case_id = $1",
            case,
        )
    ]
    given = {json.dumps(a.model_dump(mode="json"), sort_keys=True) for a in result.claims}
    assert sorted(answers) == sorted(given)  # every distinct answer once, nothing else
    assert len(result.claims) == 5 and len(given) == 4  # the replay got the first answer
    paid = await db_pool.fetchval(
        "SELECT sum(allowed_units) FROM claim_lines WHERE case_id = $1", case
    )
    assert paid == result.units_paid == 35 + 45  # CLM-R2 reversed; CLM-R3 cut to 45 (CARC 198)

    assert (
        await db_pool.fetchval("SELECT count(*) FROM clinical_events WHERE case_id = $1", case) == 1
    )

    notices = await db_pool.fetch(
        "SELECT key, kind, status, attempts FROM notifications WHERE case_id = $1", case
    )
    assert sorted(n["kind"] for n in notices) == sorted(n.kind for n in result.notifications)
    assert {n["status"] for n in notices} == {"sent"}
    assert {n["attempts"] for n in notices} == {1}
    delivered = [n.key for n in channel.delivered]
    assert sorted(delivered) == sorted(n["key"] for n in notices)  # each once, no repeat

    projection = await db_pool.fetchrow(
        "SELECT status, units_paid FROM authorizations WHERE case_id = $1", case
    )
    assert (projection["status"], projection["units_paid"]) == (result.status, paid)
