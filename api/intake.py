"""Intake: one request, one case (DESIGN.md, How data flows, steps 1-2).

The request is already validated (FastAPI refused it field by field
otherwise). The case client submits it (``cases.client.CaseClient.submit``):
one update-with-start that starts the case ``pa-<request_id>`` and returns
its first decision. The same request id again starts nothing and the answer
says so (``created: false``).
"""

from __future__ import annotations

from pydantic import BaseModel

from cases.client import CaseClient
from domain.request import PARequest


class SubmitResult(BaseModel):
    """``POST /cases``: the case id, whether this call started it, and its status."""

    case_id: str
    request_id: str
    status: str
    created: bool


async def submit(
    cases: CaseClient, request: PARequest, *, submitted_by: str | None = None
) -> SubmitResult:
    """The case's id and its status once intake's evaluation ran (``received`` if the
    worker did not decide in time)."""
    submitted = await cases.submit(request, submitted_by=submitted_by)
    return SubmitResult(
        case_id=submitted.case_id,
        request_id=request.request_id,
        status=submitted.status,
        created=submitted.created,
    )
