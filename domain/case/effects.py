"""What a case asks its workflow to do: effects, as plain data (DESIGN.md, How data flows).

``CaseAggregate``'s methods change the case's state and return these, in the
order they are to run; the workflow runs each (an activity, a search attribute
upsert, a flag) and nothing else. Asks whose answer the case needs back (an
evaluation, a track's terms) are not effects: the workflow runs them and feeds
the answer to the aggregate (``CaseAggregate.on_evaluation`` and its like).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.clinical_event import ClinicalEvent
from domain.decision import Authorization, Decision


@dataclass(frozen=True)
class RecordDecision:
    """Append one row to the decisions table (append-only, keyed by ``decision_key``)."""

    decision_key: str
    kind: str
    determination: str
    automated: bool
    decided_at: datetime
    actor: str | None = None
    reviewer_id: str | None = None
    rationale: str | None = None
    decision: Decision | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    trace: dict[str, Any] | None = None
    trace_from_key: str | None = None
    policy_id: str = "unknown"
    policy_version: str = "unknown"
    # What a reviewer's approval granted (the engine's terms, or fewer: issue #16).
    granted: Authorization | None = None
    # kind review_extension: the review it extends and its new decision deadline.
    extends_review: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class Notify:
    """A notice to the prescriber through the outbox, once per ``key``."""

    key: str
    kind: str
    recipient: str
    payload: dict[str, Any]
    actor: str | None = None


@dataclass(frozen=True)
class RecordClinicalEvent:
    """Keep a clinical event in ``clinical_events``, once per case and event id."""

    event: ClinicalEvent
    received_at: datetime
    sent_by: str | None = None


@dataclass(frozen=True)
class SearchAttributes:
    """Upsert the search attributes that are set (None: leave it as it is). Never PHI."""

    member_ref: str | None = None
    status: str | None = None
    track: str | None = None
    period_end: datetime | None = None
    renewals_used: int | None = None
    escalated: bool | None = None
    run_out_until: date | None = None


@dataclass(frozen=True)
class Project:
    """Write the case's current state to ``authorizations`` (versioned, after the message)."""


@dataclass(frozen=True)
class ContinueAsNew:
    """Continue the run as new with the case's state (after a renewal)."""


@dataclass(frozen=True)
class EndRun:
    """The case has ended (and its claims run-out, if any, is over): the run ends."""


Effect = (
    RecordDecision
    | Notify
    | RecordClinicalEvent
    | SearchAttributes
    | Project
    | ContinueAsNew
    | EndRun
)
