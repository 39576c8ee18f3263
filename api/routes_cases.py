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
from fastapi import APIRouter, Depends, Query, Request, Response
from temporalio.client import Client

from api import case_view, deps, intake
from api.audit import audit_record
from api.auth import READERS, Principal, Role, require
from api.case_view import CaseView
from api.intake import SubmitResult
from api.responses import READ_CASE, SEARCH, SUBMIT, errors
from api.search import CaseFilter, CaseList, list_cases
from cases.client import CaseClient
from domain.case_id import case_id as case_id_of
from domain.request import PARequest

log = structlog.get_logger("api.cases")
router = APIRouter(prefix="/cases", tags=["cases"])

_SUBMIT_RESPONSES = {
    **errors(*SUBMIT),
    200: {"model": SubmitResult, "description": "this request id already has a case"},
}


@router.post("", status_code=201, response_model=SubmitResult, responses=_SUBMIT_RESPONSES)
async def submit(
    request: PARequest,
    response: Response,
    http: Request,
    who: Principal = Depends(require(Role.INTAKE)),
    cases: CaseClient = Depends(deps.cases),
) -> SubmitResult:
    """Submit a prior-authorization request (CONTRACT.md); one case per request id."""
    record = audit_record(http)
    if record is not None:
        record.case_id = case_id_of(request.request_id)
    result = await intake.submit(cases, request, submitted_by=who.subject)
    if not result.created:
        response.status_code = 200
    log.info("request submitted", case=result.case_id, created=result.created, subject=who.subject)
    return result


@router.get("", response_model=CaseList, responses=errors(*SEARCH))
async def search(
    http: Request,
    f: Annotated[CaseFilter, Query()],
    _: Principal = Depends(require(*READERS)),
    client: Client = Depends(deps.temporal),
) -> CaseList:
    """List cases by status, track, escalation and period end (latest run of each case)."""
    found = await list_cases(client, f)
    record = audit_record(http)
    if record is not None:
        record.query = found.query
        record.case_ids = [c.case_id for c in found.cases]
    return found


@router.get("/{case_id}", response_model=CaseView, responses=errors(*READ_CASE))
async def read(
    _: Principal = Depends(require(*READERS)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
    pool: asyncpg.Pool = Depends(deps.db),
) -> CaseView:
    """One case: status, periods, cycles, units, status changes, decisions and notices."""
    return await case_view.read_case(cases, pool, case_id)
