"""The engine floor: the least a Temporal workflow can do for the same shape of work.

``priorauth bench`` compares each of our figures with the same figure for this
minimal workflow, run on the same server by a worker built the same way, so a
ratio (ours / floor) says how much of the cost is ours rather than the engine's:

- ``FloorWorkflow.run`` executes ``decision_activities`` no-op activities one
  after another (as many as the real case runs before its decision is known),
  then marks itself decided and waits, as an open case waits in its timers;
- the bench learns "decision known" from the history, exactly as for a case:
  the completion of the last of those activities;
- the ``claim`` update runs ``claim_activities`` no-op activities and returns
  (a claim line costs the real case one ledger activity);
- the ``finish`` signal ends it.

Registered only by the bench's own floor worker (``benchmarks.floor_worker``),
never by the production worker.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

FLOOR_WORKFLOW = "BenchFloorWorkflow"


class FloorInput(BaseModel):
    decision_activities: int = 3
    claim_activities: int = 1
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


@workflow.defn(name=FLOOR_WORKFLOW)
class FloorWorkflow:
    def __init__(self) -> None:
        self._decided = False
        self._finished = False
        self._claim_activities = 1

    @workflow.run
    async def run(self, inp: FloorInput) -> FloorDecided:
        self._claim_activities = inp.claim_activities
        for step in range(inp.decision_activities):
            await workflow.execute_activity(
                noop, NoopInput(step=step), start_to_close_timeout=timedelta(seconds=30)
            )
        self._decided = True
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._finished, timeout=timedelta(days=inp.hold_days)
            )
        return FloorDecided()

    @workflow.update
    async def claim(self, inp: FloorClaim) -> FloorClaimAnswer:
        for step in range(self._claim_activities):
            await workflow.execute_activity(
                noop, NoopInput(step=step), start_to_close_timeout=timedelta(seconds=30)
            )
        return FloorClaimAnswer(claim_id=inp.claim_id, line=inp.line)

    @workflow.query
    def decided(self) -> bool:
        return self._decided

    @workflow.signal
    def finish(self) -> None:
        self._finished = True
