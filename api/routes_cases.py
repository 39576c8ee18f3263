"""Cases: submit a request, read one case, list and search the queue.

``POST /cases`` starts ``AuthorizationWorkflow`` with id ``pa-<request_id>``;
the same request id again starts nothing and answers 200 with the existing
case. ``GET /cases`` searches Temporal visibility by status, track, period end
and escalation.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Query, Response
from temporalio.client import Client

from api import case_view, deps, intake
from api.auth import READERS, Principal, Role, require
from api.case_view import CaseView
from api.intake import SubmitResult
from api.routes_actions import REFUSALS
from api.search import CaseFilter, CaseList, list_cases
from domain.request import PARequest
from infra.settings import Settings

log = structlog.get_logger("api.cases")
router = APIRouter(prefix="/cases", tags=["cases"])

_SUBMIT_RESPONSES = {
    **{k: v for k, v in REFUSALS.items() if k in (401, 403, 422)},
    200: {"model": SubmitResult, "description": "this request id already has a case"},
}


@router.post("", status_code=201, response_model=SubmitResult, responses=_SUBMIT_RESPONSES)
async def submit(
    request: PARequest,
    response: Response,
    who: Principal = Depends(require(Role.INTAKE)),
    client: Client = Depends(deps.temporal),
    settings: Settings = Depends(deps.settings),
) -> SubmitResult:
    """Submit a prior-authorization request (CONTRACT.md); one case per request id."""
    result = await intake.submit(client, request, settings)
    if not result.created:
        response.status_code = 200
    log.info("request submitted", case=result.case_id, created=result.created, role=who.role.value)
    return result


@router.get("", response_model=CaseList, responses={401: REFUSALS[401], 403: REFUSALS[403]})
async def search(
    f: Annotated[CaseFilter, Query()],
    _: Principal = Depends(require(*READERS)),
    client: Client = Depends(deps.temporal),
) -> CaseList:
    """List cases by status, track, escalation and period end (latest run of each case)."""
    return await list_cases(client, f)


@router.get("/{case_id}", response_model=CaseView, responses=REFUSALS)
async def read(
    _: Principal = Depends(require(*READERS)),
    case_id: str = Depends(deps.case_id),
    client: Client = Depends(deps.temporal),
    pool: asyncpg.Pool = Depends(deps.db),
) -> CaseView:
    """One case: status, periods, cycles, units, status changes, decisions and notices."""
    return await case_view.read_case(client, pool, case_id)
