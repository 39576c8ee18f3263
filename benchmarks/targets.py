"""The two things the bench drives the same way: our case workflow and the engine floor.

Each target knows how to open a case, how to tell that its decision is known
(the completion of a marker activity in its history), and how to send it one
claim line; the bench measures both with the same closed loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle

from benchmarks.floor import FloorClaim, FloorInput, FloorWorkflow
from benchmarks.measure import wait_activity_completed

DECISION_MARKER = "decide_request"  # evaluates and records the decision (one local activity)
FLOOR_MARKER = "bench_noop"
UPDATE_WITHIN_S = 60.0  # a claim not answered by then counts as an error


@dataclass
class OpenedCase:
    handle: WorkflowHandle
    key: Any = None  # what the target needs to send it claims
    claims_sent: int = 0


@dataclass
class OursTarget:
    """``AuthorizationWorkflow`` on the production worker, started through ``start_case``."""

    client: Client
    task_queue: str
    member_ref_key: str
    name: str = "ours"
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    started: int = 0

    def __post_init__(self) -> None:
        from infra.case_config import case_config
        from infra.settings import Settings

        self._config = case_config(Settings())

    def prepare(self, index: int) -> Any:
        """Build (and validate) the request before the clock starts."""
        from benchmarks.requests import bench_request
        from infra.member_ref import member_ref

        # Received and started yesterday: a case the open-cases section withdraws today
        # has had a payable day, so it stays open in its claims run-out (POLICY.md).
        received = datetime.now(UTC) - timedelta(days=1)
        request = bench_request(self.run, index, received, received.date())
        return request, member_ref(request.member.member_id, self.member_ref_key)

    async def open(self, prepared: Any) -> OpenedCase:
        from workflows.starter import start_case

        request, ref = prepared
        started = await start_case(
            self.client, request, self._config, self.task_queue, member_ref=ref
        )
        self.started += 1
        return OpenedCase(handle=started.handle, key=request)

    async def decided(self, case: OpenedCase, marker_occurrence: int = 1) -> None:
        await wait_activity_completed(case.handle, DECISION_MARKER, marker_occurrence)

    async def claim(self, case: OpenedCase, period_start: date) -> str:
        from benchmarks.requests import claim_line
        from workflows.authorization import AuthorizationWorkflow

        line = claim_line(case.key, case.claims_sent, period_start)
        case.claims_sent += 1
        answer = await asyncio.wait_for(
            case.handle.execute_update(AuthorizationWorkflow.adjudicate_claim, line),
            UPDATE_WITHIN_S,
        )
        return answer.status


@dataclass
class FloorTarget:
    """``FloorWorkflow`` on the floor worker: the same activities as ours, all no-ops."""

    client: Client
    task_queue: str
    decision_plan: str = "rrr"  # as ours runs them: "r" dispatched, "l" local
    claim_plan: str = "r"
    name: str = "floor"
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    started: int = 0

    def prepare(self, index: int) -> Any:
        return FloorInput(
            decision_plan=self.decision_plan, claim_plan=self.claim_plan
        ), f"bench-floor-{self.run}-{index}"

    async def open(self, prepared: Any) -> OpenedCase:
        inp, workflow_id = prepared
        handle = await self.client.start_workflow(
            FloorWorkflow.run, inp, id=workflow_id, task_queue=self.task_queue
        )
        self.started += 1
        return OpenedCase(handle=handle, key=workflow_id)

    async def decided(self, case: OpenedCase, marker_occurrence: int | None = None) -> None:
        await wait_activity_completed(
            case.handle, FLOOR_MARKER, marker_occurrence or len(self.decision_plan)
        )

    async def claim(self, case: OpenedCase, period_start: date) -> str:
        number = case.claims_sent
        case.claims_sent += 1
        answer = await asyncio.wait_for(
            case.handle.execute_update(
                FloorWorkflow.claim, FloorClaim(claim_id=f"{case.key}-{number}")
            ),
            UPDATE_WITHIN_S,
        )
        return answer.status


async def open_and_decide(target: Any, index: int) -> tuple[float, OpenedCase]:
    """Submit one case and wait for its decision: (submit-to-decision seconds, the case)."""
    prepared = target.prepare(index)
    began = time.perf_counter()
    case = await target.open(prepared)
    await target.decided(case)
    return time.perf_counter() - began, case
