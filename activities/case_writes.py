"""What a case writes to PostgreSQL after a message: its notices and its projection.

Pure builders, shared by the two places that write them (DESIGN.md, Persistence):
the workflow, which queues them for ``CaseOutbox.write_effects``, and
``CaseDecisions.decide_request``, which writes a decision's notices and projection
in the decision row's own transaction, so a decision is one local activity. Both
build from the same case state with the same code at the same (recorded) time,
and ``digest`` lets the workflow check that what the activity wrote is what it
would write; a difference is logged, never acted on with a command (the next
message's projection replaces this one; notices are unique on their key).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from activities.models import AuthorizationProjection, NotificationInput, PeriodTerms
from domain.case.effects import Notify
from domain.case.state import CaseState


def notice_of(effect: Notify, state: CaseState) -> NotificationInput:
    """The outbox row of a notice the case decided to send."""
    return NotificationInput(
        key=effect.key,
        case_id=state.case_id,
        kind=effect.kind,  # type: ignore[arg-type]  # the aggregate's kinds
        recipient=effect.recipient,
        payload=effect.payload,
        actor=effect.actor,
        policy_ref=state.policy_ref,
    )


def period_terms(state: CaseState) -> list[PeriodTerms]:
    """The case's periods as the ledger and the projection take them."""
    return [
        PeriodTerms(
            start=p.start,
            end=p.end,
            kind=p.kind,
            cycles=p.cycles,
            authorized_units=p.authorized_units,
            first_cycle=p.first_cycle,
        )
        for p in state.periods
    ]


def next_projection(state: CaseState, member_ref: str, now: datetime) -> AuthorizationProjection:
    """The case's next projection: its version is one more than the last (kept in the
    state, so a later projection always replaces this one)."""
    state.projection_version += 1
    period = state.period
    return AuthorizationProjection(
        case_id=state.case_id,
        request_id=state.request.request_id,
        member_ref=member_ref,
        version=state.projection_version,
        status=state.status,
        track=state.track,
        path=state.path,
        line_of_business=state.request.line_of_business,
        urgency=state.request.urgency,
        periods=period_terms(state),
        renewals_used=state.renewals_used,
        cycles_started=state.cycles_started,
        units_authorized=state.units_authorized,
        period_end=period.end if period else None,
        escalated=state.escalated,
        received_at=state.request.received_at,
        updated_at=now,
        policy_ref=state.policy_ref,
    )


def digest(notices: list[NotificationInput], projection: AuthorizationProjection | None) -> str:
    """A fingerprint of a set of writes: equal writes, equal digests."""
    h = hashlib.sha256()
    for notice in notices:
        h.update(notice.model_dump_json().encode())
        h.update(b"\x1e")
    h.update(b"\x1d")
    if projection is not None:
        h.update(projection.model_dump_json().encode())
    return h.hexdigest()
