"""Whether a case can take a clinical event now (CONTRACT.md, "Clinical event").

An event is dated between the case's day of receipt and its today, inclusive.
A ``retraction`` names an event recorded on this case, not a ``cycle_started``
event or another retraction, and not one already retracted; once the case has
ended (its claims run-out keeps no events) a retraction is a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from domain.case.state import CaseState
from domain.clinical_event import RETRACTABLE, ClinicalEvent


@dataclass(frozen=True)
class EventProblem:
    """Why an event is refused: bad input (422, naming ``field``) or a conflict (409)."""

    kind: Literal["invalid", "conflict"]
    field: str
    message: str


def recorded_event(state: CaseState, event_id: str) -> ClinicalEvent | None:
    return next((e for e in state.clinical_events if e.event_id == event_id), None)


def event_problem(
    state: CaseState, event: ClinicalEvent, today: date, ended: bool
) -> EventProblem | None:
    """Why the case cannot take ``event`` now, or None."""
    s = state
    if not s.received_day <= event.date <= today:
        return EventProblem(
            "invalid",
            "date",
            f"an event is dated between the case's day of receipt ({s.received_day}) "
            f"and its today ({today}), inclusive",
        )
    if event.retraction is None:
        return None
    if s.run_out_until is not None or ended:
        # The case has ended (its period is over): nothing it decided can be undone, and
        # its claims run-out no longer holds the events (CaseAggregate._slim_for_run_out).
        return EventProblem(
            "conflict",
            "retraction.retracts",
            f"the case has ended ({s.status}): its events can no longer be retracted",
        )
    target = recorded_event(s, event.retraction.retracts)
    if target is None:
        return EventProblem(
            "invalid", "retraction.retracts", "no event with this event_id is on this case"
        )
    if target.type not in RETRACTABLE:
        return EventProblem(
            "invalid",
            "retraction.retracts",
            f"a {target.type} event cannot be retracted "
            f"(retractable: {', '.join(sorted(RETRACTABLE))})",
        )
    by = s.retracted.get(target.event_id)
    if by is not None:
        return EventProblem(
            "conflict", "retraction.retracts", f"that event was already retracted by {by}"
        )
    return None


def describe_event(event: ClinicalEvent) -> str:
    """One line of the case's log for ``event`` (no member values beyond the event's own)."""
    detail = ""
    if event.toxicity is not None:
        detail = f": {event.toxicity.kind} grade {event.toxicity.grade}"
    elif event.response_assessment is not None:
        detail = f": {event.response_assessment.result} ({event.response_assessment.method})"
    elif event.cycle_started is not None:
        detail = f": cycle {event.cycle_started.cycle}"
    elif event.retraction is not None:
        detail = f": retracts {event.retraction.retracts}"
    return f"{event.type} on {event.date}{detail}"
