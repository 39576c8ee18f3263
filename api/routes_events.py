"""Clinical events from clinical systems (CONTRACT.md, "Clinical event").

Sent to the case as the ``clinical_event`` signal: the API answers 202 once
Temporal has it durably; the case records it and applies it (Section IV for
toxicity and response, Section V for weight). Repeated event ids are ignored
by the case. The case records the sending system: the caller's subject.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from temporalio.client import Client

from api import case_gateway, deps
from api.auth import Principal, Role, require
from api.routes_actions import REFUSALS
from domain.clinical_event import ClinicalEvent
from workflows.messages import ClinicalEventMessage

log = structlog.get_logger("api.events")
router = APIRouter(prefix="/cases", tags=["clinical events"])


class EventAccepted(BaseModel):
    case_id: str
    event_id: str
    accepted: bool = True


@router.post("/{case_id}/events", status_code=202, response_model=EventAccepted, responses=REFUSALS)
async def clinical_event(
    event: ClinicalEvent,
    who: Principal = Depends(require(Role.CLINICAL)),
    case_id: str = Depends(deps.case_id),
    client: Client = Depends(deps.temporal),
) -> EventAccepted:
    """Deliver one clinical event to the case."""
    message = ClinicalEventMessage.sent(event, who.subject)
    await case_gateway.signal(client, case_id, "clinical_event", message)
    log.info("clinical event sent", case=case_id, event_type=event.type, subject=who.subject)
    return EventAccepted(case_id=case_id, event_id=event.event_id)
