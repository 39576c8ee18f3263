"""Clinical events from clinical systems (CONTRACT.md, "Clinical event").

Sent to the case as the ``clinical_event`` signal: the API answers 202 once
Temporal has it durably; the case records it and applies it (Section IV for
toxicity and response, Section V for weight). Repeated event ids are ignored
by the case.
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
    await case_gateway.signal(client, case_id, "clinical_event", event)
    log.info("clinical event sent", case=case_id, event_type=event.type, role=who.role.value)
    return EventAccepted(case_id=case_id, event_id=event.event_id)
