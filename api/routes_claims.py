"""Claim lines from the claims system, adjudicated live by the case (POLICY.md, Claims).

The answer comes back in the response: paid, partially paid or denied with
its CARC codes. A reversal is the same line with ``"reversal": true``. The
workflow answers every well-formed line (a claim the authorization does not
cover is a denial, not an error), so only malformed input, unknown cases and
ended cases are refused. The ledger records the sending system: the caller's subject.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Depends

from api import deps
from api.auth import Principal, Role, require
from api.responses import UPDATE_CASE, errors
from cases.client import CaseClient
from domain.claim import ClaimAnswer, ClaimLine

log = structlog.get_logger("api.claims")
router = APIRouter(prefix="/cases", tags=["claims"])


@router.post("/{case_id}/claims", response_model=ClaimAnswer, responses=errors(*UPDATE_CASE))
async def adjudicate_claim(
    line: ClaimLine,
    who: Principal = Depends(require(Role.CLAIMS)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> ClaimAnswer:
    """Adjudicate one claim line (or its reversal) against the case's authorization."""
    answer = await cases.adjudicate_claim(case_id, line, sent_by=who.subject)
    log.info(
        "claim adjudicated",
        case=case_id,
        claim_status=answer.status,
        allowed_units=answer.allowed_units,
        carc=answer.carc_codes,
        reversal=line.reversal,
        subject=who.subject,
    )
    return answer
