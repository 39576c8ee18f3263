"""The engine floor: the least a Temporal workflow can do for the same shape of work.

``priorauth bench`` compares each of our figures with the same figure for this
minimal workflow, run on the same server by a worker built the same way, so a
ratio (ours / floor) says how much of the cost is ours rather than the engine's:

- ``FloorWorkflow.run`` executes the ``decision_plan``: no-op activities one
  after another, "r" for one the server dispatches and "l" for a local one,
  as many of each and in the order the real case runs them before its
  decision is known; then it marks itself decided and waits, as an open case
  waits in its timers;
- the bench learns "decision known" exactly as a submission does for a case:
  an update-with-start on ``first_decision``, which answers once the plan has run;
- the ``claim`` update runs the ``claim_plan`` the same way and returns (what
  the real case runs for a claim line before it answers: the ledger);
- the ``finish`` signal ends it.

Two floors run on it: the *same-plan floor* (``decision_plan``/``claim_plan`` as
ours runs them, counted from a warm-up case's history) and the *minimal floor*
(``MINIMAL_DECISION_PLAN``, ``MINIMAL_CLAIM_PLAN``: one local no-op each), the
fewest engine steps Temporal allows for a decision and a claim answer.

Registered only by the bench's own floor worker (``benchmarks.floor_worker``),
never by the production worker.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

FLOOR_WORKFLOW = "BenchFloorWorkflow"
#: The minimal floor: a decision is one local no-op, a claim answer one local no-op.
MINIMAL_DECISION_PLAN = "l"
MINIMAL_CLAIM_PLAN = "l"


class FloorInput(BaseModel):
    decision_plan: str = "rrr"  # "r": an activity the server dispatches, "l": a local one
    claim_plan: str = "r"
    hold_days: int = 365


class FloorDecided(BaseModel):
    decided: bool = True


class FloorClaim(BaseModel):
    claim_id: str
    line: int = 1


class FloorClaimAnswer(BaseModel):
    claim_id: str
    line: int
    status: str = "paid"


class NoopInput(BaseModel):
    step: int = 0


class NoopResult(BaseModel):
    step: int = 0


@activity.defn(name="bench_noop")
async def noop(inp: NoopInput) -> NoopResult:
    """Does nothing: the cost of one activity round trip through the engine."""
    return NoopResult(step=inp.step)


async def _run_plan(plan: str) -> None:
    for step, kind in enumerate(plan):
        if kind == "l":
            await workflow.execute_local_activity(
                noop, NoopInput(step=step), start_to_close_timeout=timedelta(seconds=30)
            )
        else:
            await workflow.execute_activity(
                noop, NoopInput(step=step), start_to_close_timeout=timedelta(seconds=30)
            )


@workflow.defn(name=FLOOR_WORKFLOW)
class FloorWorkflow:
    def __init__(self) -> None:
        self._decided = False
        self._finished = False
        self._claim_plan = "r"

    @workflow.run
    async def run(self, inp: FloorInput) -> FloorDecided:
        self._claim_plan = inp.claim_plan
        await _run_plan(inp.decision_plan)
        self._decided = True
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._finished, timeout=timedelta(days=inp.hold_days)
            )
        return FloorDecided()

    @workflow.update
    async def first_decision(self) -> FloorDecided:
        """Answers once the decision plan has run (as ``AuthorizationWorkflow.first_decision``)."""
        await workflow.wait_condition(lambda: self._decided)
        return FloorDecided()

    @workflow.update
    async def claim(self, inp: FloorClaim) -> FloorClaimAnswer:
        await _run_plan(self._claim_plan)
        return FloorClaimAnswer(claim_id=inp.claim_id, line=inp.line)

    @workflow.query
    def decided(self) -> bool:
        return self._decided

    @workflow.signal
    def finish(self) -> None:
        self._finished = True
