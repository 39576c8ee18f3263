"""The one table of a case's status transitions (DESIGN.md, Case statuses; CONTRACT.md).

Every status change of a case is a row here: the event, the statuses it may
happen in, the status it leads to, and the policy section that rules it.
``CaseAggregate`` changes a status only through ``transition``; an event in a
status without a row is a bug, refused with ``InvalidTransition``.

A ``target`` of ``None`` is the status the case had before (a reinstatement
restores the status a discontinuation set aside). Events that end a case
without changing its status (an unused appeal window, the end of a
discontinued case's period, the end of a claims run-out) are not status
changes and are not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.case.policy_refs import (
    REF_CLOCKS,
    REF_CRITERIA,
    REF_EVENTS,
    REF_MEDICARE,
    REF_PERIOD,
    REF_RENEWAL,
    REF_STATUS,
)

CaseStatus = Literal[
    "received",
    "pended",
    "in_review",
    "active",
    "renewal_window",
    "denied",
    "appealed",
    "expired",
    "completed",
    "withdrawn",
    "discontinued",
    "not_applicable",
]
CaseEvent = Literal[
    "approved",
    "pended",
    "review_opened",
    "denied",
    "not_applicable",
    "appealed",
    "window_opened",
    "window_closed",
    "renewed",
    "period_started",
    "expired",
    "completed",
    "withdrawn",
    "discontinued",
    "reinstated",
]

#: Approved periods: claims are paid, renewals taken (Section I).
LIVE_STATUSES: frozenset[str] = frozenset({"active", "renewal_window"})
#: Before any approval: the request is being decided (Section III; Decision clocks).
UNDECIDED: frozenset[str] = frozenset({"received", "pended", "in_review", "appealed"})


@dataclass(frozen=True)
class Transition:
    """One row: ``event`` in any of ``sources`` leads to ``target`` (``policy_ref`` rules it)."""

    event: CaseEvent
    sources: frozenset[str]
    target: CaseStatus | None
    policy_ref: str


TRANSITIONS: tuple[Transition, ...] = (
    # Section III: the engine's (or a reviewer's) determination on the request.
    Transition("approved", UNDECIDED, "active", REF_PERIOD),
    Transition("pended", UNDECIDED, "pended", REF_CRITERIA),
    Transition("review_opened", UNDECIDED, "in_review", REF_CLOCKS),
    Transition("denied", UNDECIDED, "denied", REF_CLOCKS),
    Transition("not_applicable", frozenset({"received", "pended"}), "not_applicable", REF_MEDICARE),
    # Decision clocks and appeals: a denial is appealed within its window.
    Transition("appealed", frozenset({"denied"}), "appealed", REF_CLOCKS),
    # Section IV.2: the renewal window opens at end - N days; an extension may close it.
    Transition("window_opened", frozenset({"active"}), "renewal_window", REF_RENEWAL),
    Transition("window_closed", frozenset({"renewal_window"}), "active", REF_RENEWAL),
    Transition("renewed", LIVE_STATUSES, "active", REF_RENEWAL),
    # Section I: periods follow each other; the last one ends the case.
    Transition("period_started", LIVE_STATUSES, "active", REF_PERIOD),
    Transition("expired", LIVE_STATUSES, "expired", REF_PERIOD),
    Transition("completed", LIVE_STATUSES, "completed", REF_PERIOD),
    # CONTRACT.md, Case status: the requester withdraws a live or undecided case.
    Transition("withdrawn", UNDECIDED | LIVE_STATUSES, "withdrawn", REF_STATUS),
    # CONTRACT.md, Clinical event: death or discontinuation, and its retraction.
    Transition("discontinued", UNDECIDED | LIVE_STATUSES | {"denied"}, "discontinued", REF_EVENTS),
    Transition("reinstated", frozenset({"discontinued"}), None, REF_EVENTS),
)

_TABLE: dict[tuple[str, str], Transition] = {
    (source, row.event): row for row in TRANSITIONS for source in row.sources
}


class InvalidTransition(Exception):
    """An event in a status that has no row for it (a bug in the case, never input)."""


def transition_for(status: str, event: CaseEvent) -> Transition | None:
    """The row for ``event`` in ``status``, or None when it cannot happen there."""
    return _TABLE.get((status, event))


def transition(status: str, event: CaseEvent, restored: str | None = None) -> tuple[str, str]:
    """The status ``event`` leads to from ``status``, and the section that rules it.

    ``restored`` is the status to go back to, for a row whose target is the one before.
    """
    row = _TABLE.get((status, event))
    if row is None:
        raise InvalidTransition(f"{event} cannot happen to a {status} case")
    target = row.target if row.target is not None else restored
    if target is None:
        raise InvalidTransition(f"{event} needs the status to go back to")
    return target, row.policy_ref
