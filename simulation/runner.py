"""`priorauth simulate FILE|-`: a scenario through the real workflow, in seconds.

CONTRACT.md, "Scenario". A time-skipping Temporal test server and a
PostgreSQL (a scratch database on DATABASE_URL, else an embedded server in a
temporary directory) are started for the run; a worker with the real
activities serves a task queue of its own. The case starts with its business
clock anchored at the server's time (day 0 = the request's ``received_at``);
each event is sent at its day; at ``until_day`` the case is queried and the
result JSON is printed. A refused update never stops the run: the workflow
records it (status changes, notifications) and the output lists it under
``refusals`` (a clinical event goes as the ``record_clinical_event`` update, so
an event dated outside the case's days or a bad retraction is listed there).
A bad scenario file prints one line per bad field and exits 2.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from cases.errors import CaseEnded, CaseRefused, InvalidCaseInput
from domain.claim import ClaimAnswer, ClaimLine
from domain.scenario import (
    CycleOut,
    NotificationOut,
    PeriodOut,
    Scenario,
    ScenarioEvent,
    ScenarioResult,
    StatusChangeOut,
)

if TYPE_CHECKING:
    from cases.client import CaseClient
    from workflows.messages import UpdateOutcome

DEFAULT_REVIEWER = "scenario-reviewer"
#: Wall seconds an event may take before the run is called stalled (an activity failing).
EVENT_TIMEOUT_S = 120.0


class SimulationStalled(Exception):
    """An event got no answer in time: something under the workflow keeps failing."""


class Refusal(BaseModel):
    """An event the case did not take: the update's refusal or the validator's rejection."""

    day: int
    action: str
    reason: str


class SimulationResult(ScenarioResult):
    """CONTRACT.md's result, plus the events the case refused (an added field)."""

    refusals: list[Refusal] = Field(default_factory=list)


@dataclass
class SimulationRun:
    result: SimulationResult
    workflow_id: str
    history_events: list[int] = field(default_factory=list)
    wall_seconds: float = 0.0


def scenario_problems(text: str, source: str) -> tuple[Scenario | None, list[str]]:
    """The scenario in ``text``, or one line per problem (never an exception)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return None, [f"{source}: not JSON: {err.msg} (line {err.lineno}, column {err.colno})"]
    try:
        return Scenario.model_validate(data), []
    except ValidationError as err:
        lines = []
        for problem in err.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "(scenario)"
            lines.append(f"{source}: {where}: {problem['msg']}")
        return None, lines


# ------------------------------------------------------------------ the stack


async def simulate(scenario: Scenario, settings: Any) -> SimulationRun:
    """Start a time-skipping server, a PostgreSQL and a worker; run the scenario."""
    from infra.devserver import start_time_skipping_env
    from infra.postgres import create_pool, scratch_database
    from worker import build_worker

    async with scratch_database(settings.database_url, prefix="priorauth_sim") as url:
        pool = await create_pool(url, min_size=1, max_size=4)
        env = await start_time_skipping_env()
        try:
            task_queue = f"simulate-{uuid.uuid4().hex[:12]}"
            async with build_worker(env.client, pool, settings, task_queue=task_queue):
                return await run_scenario(env, scenario, task_queue=task_queue, settings=settings)
        finally:
            await env.shutdown()
            await pool.close()


# ---------------------------------------------------------------- the scenario


async def run_scenario(
    env: Any, scenario: Scenario, *, task_queue: str, settings: Any
) -> SimulationRun:
    """Send the scenario's events to a new case at their days; return the final state.

    ``env`` is a time-skipping ``WorkflowEnvironment`` whose worker serves
    ``task_queue``.
    """
    from cases.client import CaseClient, case_histories

    started_wall = time.perf_counter()
    anchor: datetime = await env.get_current_time()
    # The case runs under its drug's policy with that policy's clocks (the case client's).
    cases = CaseClient.from_settings(
        env.client, settings, task_queue=task_queue, clock_anchor=anchor
    )
    case_id = (await cases.start(scenario.request)).case_id
    claims: list[ClaimAnswer] = []
    refusals: list[Refusal] = []

    async def to_day(day: int) -> None:
        target = anchor + timedelta(days=day)
        now = await env.get_current_time()
        if target > now:
            await env.sleep(target - now)

    for number, event in enumerate(scenario.events, 1):
        await to_day(event.day)
        try:
            async with asyncio.timeout(EVENT_TIMEOUT_S):
                answer, refusal = await _send(cases, case_id, event)
        except TimeoutError:
            raise SimulationStalled(
                f"event {number} (day {event.day}, {event.action}) got no answer in "
                f"{EVENT_TIMEOUT_S:.0f} s; see the worker's warnings for the failing activity"
            ) from None
        if answer is not None:
            claims.append(answer)
        if refusal:
            refusals.append(Refusal(day=event.day, action=event.action, reason=refusal))
    last_day = max([scenario.until_day, *(e.day for e in scenario.events)])
    await to_day(last_day)
    result = await _result(cases, case_id, claims, refusals)
    wall = time.perf_counter() - started_wall
    histories = await case_histories(env.client, case_id)
    return SimulationRun(
        result=result,
        workflow_id=case_id,
        history_events=[len(h.events) for h in histories],
        wall_seconds=wall,
    )


async def _send(
    cases: CaseClient, case_id: str, event: ScenarioEvent
) -> tuple[ClaimAnswer | None, str]:
    """Send one event; return the claim answer (claims) and the refusal reason, if any."""
    from workflows.messages import (
        AppealInput,
        ExtendPeriodInput,
        ProvideInfoInput,
        RenewalRequestInput,
        ReviewDecisionInput,
        WithdrawInput,
    )

    outcome: UpdateOutcome
    try:
        if event.action == "claim":
            assert event.claim is not None
            return await cases.adjudicate_claim(case_id, event.claim), ""
        if event.action == "clinical_event":
            assert event.event is not None
            outcome = await cases.record_clinical_event(case_id, event.event.to_event())
        elif event.action == "decide_review":
            # validated, not constructed: a scenario may hold a determination the
            # case refuses ("review"); that is a refusal of the run, not a crash
            review = ReviewDecisionInput.model_validate(
                {
                    "reviewer_id": event.reviewer or DEFAULT_REVIEWER,
                    "determination": event.determination,
                    "rationale": event.rationale or "",
                }
            )
            outcome = await cases.decide_review(case_id, review)
        elif event.action == "renewal_request":
            outcome = await cases.request_renewal(
                case_id, RenewalRequestInput(facts=event.request or {})
            )
        elif event.action == "provide_info":
            outcome = await cases.provide_info(case_id, ProvideInfoInput(facts=event.facts or {}))
        elif event.action == "extend_period":
            extension = ExtendPeriodInput.model_validate(
                {
                    "reviewer_id": event.reviewer or DEFAULT_REVIEWER,
                    "days": event.days,
                    "rationale": event.rationale or "treatment paused",
                }
            )
            outcome = await cases.extend_period(case_id, extension)
        elif event.action == "appeal":
            outcome = await cases.appeal(case_id, AppealInput(reason=event.reason or ""))
        else:
            outcome = await cases.withdraw(case_id, WithdrawInput(reason=event.reason or ""))
    except ValidationError as err:
        return _refused_claim(event, "invalid"), "; ".join(e["msg"] for e in err.errors())
    except (CaseRefused, InvalidCaseInput) as err:
        return _refused_claim(event, "rejected"), f"rejected: {err.message}"
    except CaseEnded:
        status = await cases.status(case_id)
        periods = (await cases.periods(case_id)).periods
        reason = f"the case is closed ({status.status})"
        if status.run_out_until is not None:
            reason += f"; its claims run-out ended {status.run_out_until}"
        return _closed_claim(event, status, periods), reason
    return None, "" if outcome.accepted else outcome.reason


def _refused_claim(event: ScenarioEvent, why: str) -> ClaimAnswer | None:
    """A claim the live case's validator refused still gets an answer: authorization absent
    (CARC 197), with why."""
    if event.action != "claim" or event.claim is None:
        return None
    return _denied(event.claim, "197", f"no live authorization took this line ({why})")


def _closed_claim(event: ScenarioEvent, status: Any, periods: list[Any]) -> ClaimAnswer | None:
    """A claim the ended case could not take still gets an answer (POLICY.md, Claims run-out).

    A date of service the case could have paid: its run-out is over, so the line came
    after its timely-filing limit (CARC 29). Any other: authorization absent (CARC 197).
    """
    if event.action != "claim" or event.claim is None:
        return None
    line = event.claim
    dos = line.date_of_service
    through = status.run_out_service_through
    payable = (
        through is not None and dos <= through and any(p.start <= dos <= p.end for p in periods)
    )
    if payable:
        carc, message = (
            "29",
            f"received after the case's claims run-out ended {status.run_out_until}: "
            "the time limit for filing has expired",
        )
    else:
        carc, message = "197", f"no live authorization took this line (the case is {status.status})"
    return _denied(line, carc, message)


def _denied(line: ClaimLine, carc: str, message: str) -> ClaimAnswer:
    """The whole line denied with one CARC (POLICY.md, Claims against an authorization)."""
    return ClaimAnswer(
        claim_id=line.claim_id,
        line=line.line,
        status="denied",
        allowed_units=0,
        denied_units=line.units,
        carc_codes=[carc],
        message=message,
        policy_ref="Claims against an authorization",
        reversal=line.reversal,
    )


async def _result(
    cases: CaseClient, case_id: str, claims: list[ClaimAnswer], refusals: list[Refusal]
) -> SimulationResult:
    status = await cases.status(case_id)
    periods = await cases.periods(case_id)
    cycles = await cases.cycles(case_id)
    history = await cases.history(case_id)
    return SimulationResult(
        request_id=status.request_id,
        status=status.status,
        track=status.track,
        periods=[
            PeriodOut.model_validate({"start": p.start, "end": p.end, "kind": p.kind})
            for p in periods.periods
        ],
        renewals_used=status.renewals_used,
        cycles=[CycleOut(cycle=c.cycle, start=c.start, phase=c.phase) for c in cycles.cycles],
        units_paid=status.units_paid,
        claims=claims,
        notifications=[NotificationOut(kind=n.kind, day=n.day) for n in history.notifications],
        status_changes=[
            StatusChangeOut(status=c.status, day=c.day) for c in history.status_changes
        ],
        refusals=refusals,
    )
