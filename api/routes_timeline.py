"""``GET /cases/{case_id}/timeline.svg``: the case as a picture (api/timeline_svg.py)."""

from __future__ import annotations

from datetime import date

import asyncpg
from fastapi import APIRouter, Depends, Response

from api import case_view, deps
from api.auth import READERS, Principal, require
from api.responses import READ_CASE, errors
from api.timeline_svg import render_timeline
from cases.client import CaseClient
from domain.policy_registry import PolicyRegistry

router = APIRouter(prefix="/cases", tags=["cases"])

#: Opened directly in a browser, the picture may run nothing and load nothing (defence in
#: depth: api/timeline_svg.py already escapes every value it writes).
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


@router.get(
    "/{case_id}/timeline.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "the timeline as SVG"},
        **errors(*READ_CASE),
    },
)
async def timeline(
    _: Principal = Depends(require(*READERS)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
    pool: asyncpg.Pool = Depends(deps.db),
    policies: PolicyRegistry = Depends(deps.policies),
) -> Response:
    """Periods, cycles (treatment and rest days), claims, and units per rolling window of
    the case's policy (Blincyto: 42 days)."""
    data = await case_view.read_timeline(cases, pool, case_id, date.today(), policies)
    return Response(render_timeline(data), media_type="image/svg+xml", headers=SVG_HEADERS)
