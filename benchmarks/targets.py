"""The things the bench drives the same way: our case workflow and the two engine floors.

Each target knows how to open a case and learn its decision in the same call
(an update-with-start on ``first_decision``: for ours, ``CaseClient.submit``,
the production submission path), and how to send it one claim line; the
bench measures them all with the same closed loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from benchmarks.floor import FloorClaim, FloorInput, FloorWorkflow
from domain.claim import ClaimLine
from domain.request import PARequest

DECISION_MARKER = "decide_request"  # evaluates and records the decision (one local activity)
UPDATE_WITHIN_S = 60.0  # a claim not answered by then counts as an error
HCPCS = "J9039"
NDC = "55513-0160-01"
DAILY_UNITS = 28  # 28 mcg a day (J9039 is 1 mcg a unit): within 980 units per 42 days


@dataclass
class OpenedCase:
    handle: WorkflowHandle[Any, Any]
    key: Any = None  # what the target needs to send it claims
    claims_sent: int = 0


@dataclass
class OursTarget:
    """``AuthorizationWorkflow`` on the production worker, submitted through the case client."""

    client: Client
    task_queue: str
    member_ref_key: str
    name: str = "ours"
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    started: int = 0

    def __post_init__(self) -> None:
        from cases.client import CaseClient
        from infra.settings import Settings

        # Each case under its drug's policy and that policy's clocks, as the API starts them.
        self.cases = CaseClient(
            self.client,
            self.task_queue,
            member_ref_key=self.member_ref_key,
            settings=Settings(),
        )

    def prepare(self, index: int) -> Any:
        """Build (and validate) the request before the clock starts."""
        from examples.example_requests import parequest
        from infra.member_ref import member_ref

        # Received and started yesterday: a case the open-cases section withdraws today
        # has had a payable day, so it stays open in its claims run-out (POLICY.md).
        received = datetime.now(UTC) - timedelta(days=1)
        request = parequest(
            request_id=f"BENCH-{self.run}-{index}",
            member_id=f"BM-{self.run}-{index}",
            received_at=received,
            requested_start=received.date(),
        )
        return request, member_ref(request.member.member_id, self.member_ref_key)

    async def open(self, prepared: Any) -> OpenedCase:
        """Submit the request; it returns with the case's first decision."""
        request, ref = prepared
        submitted = await self.cases.submit(request, member_ref=ref)
        if submitted.view is None:
            raise RuntimeError(f"{submitted.case_id}: no first decision in time")
        self.started += 1
        return OpenedCase(handle=self.cases.handle(submitted.case_id), key=request)

    async def claim(self, case: OpenedCase, period_start: date) -> str:
        line = claim_line(case.key, case.claims_sent, period_start)
        case.claims_sent += 1
        answer = await asyncio.wait_for(
            self.cases.adjudicate_claim(case.handle.id, line), UPDATE_WITHIN_S
        )
        return answer.status


@dataclass
class FloorTarget:
    """``FloorWorkflow`` on the floor worker: no-op activities in the given plans.

    The same-plan floor runs the activities ours runs (counted at warm-up); the
    minimal floor one local no-op per decision and per claim.
    """

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
        ), f"bench-{self.name}-{self.run}-{index}"

    async def open(self, prepared: Any) -> OpenedCase:
        inp, workflow_id = prepared
        start = WithStartWorkflowOperation(
            FloorWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await self.client.execute_update_with_start_workflow(
            FloorWorkflow.first_decision, start_workflow_operation=start
        )
        self.started += 1
        return OpenedCase(handle=await start.workflow_handle(), key=workflow_id)

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
    return time.perf_counter() - began, case


def claim_line(request: PARequest, number: int, period_start: date) -> ClaimLine:
    """The ``number``-th daily claim of a case: one line, one day of the first cycle."""
    return ClaimLine(
        claim_id=f"BC-{request.request_id}-{number}",
        line=1,
        member_id=request.member.member_id,
        date_of_service=period_start + timedelta(days=number % 28),
        hcpcs=HCPCS,
        ndc=NDC,
        units=DAILY_UNITS,
        modifiers=["JZ"],
        icd10_codes=list(request.diagnosis.icd10_codes or []),
    )
