"""Clinical events from clinical systems (CONTRACT.md, "Clinical event").

The body is one of the event types (a union discriminated by ``type``, each
with exactly its payload), read strictly; it never names its sender (a
``sent_by`` field is refused like any unknown field): the case records the
sending system as the caller's subject. It goes to the case as the
``record_clinical_event`` update, so the case can refuse it before anything is
written: an event dated before the case's day of receipt or after its today
is a 422 naming ``date``; a retraction of an event the case does not have (or
of a ``cycle_started`` event or a retraction) a 422 naming
``retraction.retracts``; a retraction of an event already retracted a 409.
Otherwise the answer is 202 once the case has recorded and applied it (Section
IV for toxicity and response, Section V for weight; a retracted death or
discontinuation reinstates the case). A repeated event id is answered 202 and
ignored.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api import deps
from api.auth import Principal, Role, require
from api.routes_actions import REFUSALS, refused
from cases.client import CaseClient
from domain.clinical_event import ClinicalEventBody

log = structlog.get_logger("api.events")
router = APIRouter(prefix="/cases", tags=["clinical events"])

_EVENT_REFUSALS = {
    **REFUSALS,
    409: {
        **REFUSALS[409],
        "description": "the case has ended, or the retracted event was already retracted",
    },
    422: {
        **REFUSALS[422],
        "description": "invalid input, field by field: the body, a date outside the case's "
        "day of receipt .. today, or a retraction of an event the case cannot retract",
    },
}


class EventAccepted(BaseModel):
    case_id: str
    event_id: str
    accepted: bool = True
    duplicate: bool = False
    status: str | None = None


@router.post(
    "/{case_id}/events", status_code=202, response_model=EventAccepted, responses=_EVENT_REFUSALS
)
async def clinical_event(
    event: ClinicalEventBody,
    who: Principal = Depends(require(Role.CLINICAL)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> EventAccepted:
    """Deliver one clinical event to the case; it is recorded and applied, or refused."""
    outcome = await cases.record_clinical_event(case_id, event.to_event(), sent_by=who.subject)
    log.info(
        "clinical event",
        case=case_id,
        event_type=event.type,
        accepted=outcome.accepted,
        duplicate=outcome.duplicate,
        subject=who.subject,
    )
    if not outcome.accepted:
        raise refused(outcome)
    return EventAccepted(
        case_id=case_id,
        event_id=outcome.event_id,
        duplicate=outcome.duplicate,
        status=outcome.status,
    )
