"""Intake: one request, one case (DESIGN.md, How data flows, steps 1-2).

The request is already validated (FastAPI refused it field by field
otherwise). The case starts through ``workflows.starter.start_case`` with id
``pa-<request_id>``; the same request id again starts nothing and the answer
says so (``created: false``).
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio.client import Client

from api import case_gateway
from api.errors import ApiError, FieldError
from domain.policy_versions import NoVersionInEffect
from domain.request import PARequest
from infra.settings import Settings
from workflows.messages import CaseStatusView

#: How long a submit waits for the first status (the engine's decision) before answering.
FIRST_STATUS_WAIT_S = 5.0


class SubmitResult(BaseModel):
    """``POST /cases``: the case id, whether this call started it, and its status."""

    case_id: str
    request_id: str
    status: str
    created: bool


def case_id_for(request_id: str) -> str:
    return f"pa-{request_id}"


async def submit(
    client: Client, request: PARequest, settings: Settings, *, submitted_by: str | None = None
) -> SubmitResult:
    from worker import case_config_for
    from workflows.starter import start_case

    try:
        config = case_config_for(settings, request)
    except NoVersionInEffect:
        # The drug's last policy version on file ended before the day of receipt.
        message = "no version of the drug's policy is in effect on the day of receipt"
        raise ApiError(
            422,
            "invalid",
            "the input is not valid",
            [FieldError(field="received_at", message=message)],
        ) from None
    started = await start_case(
        client,
        request,
        config,
        settings.temporal_task_queue,
        member_ref_key=settings.member_ref_key,
        submitted_by=submitted_by,
    )
    status = await _first_status(client, started.case_id)
    return SubmitResult(
        case_id=started.case_id,
        request_id=request.request_id,
        status=status,
        created=started.created,
    )


async def _first_status(client: Client, case_id: str) -> str:
    """The status once intake's evaluation ran (``received`` if the worker is slow)."""
    status = "received"
    try:
        async with asyncio.timeout(FIRST_STATUS_WAIT_S):
            while status == "received":
                view = await case_gateway.query(client, case_id, "status", CaseStatusView)
                status = view.status
                if status == "received":
                    await asyncio.sleep(0.1)
    except (TimeoutError, ApiError):
        pass
    return status
