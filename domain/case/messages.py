"""What a case takes and answers: one input and one result model per message.

The workflow's updates, signal and queries carry these (``workflows/messages.py``
re-exports them with the workflow's own input and result); the case aggregate
(``domain/case/aggregate.py``) takes the inputs and returns the results. The
names are stable and new fields always get defaults (old histories must still
decode).

Updates (the caller needs an answer; a call in the wrong state gets
``accepted=False`` with the reason, a malformed one is rejected by the
validator before it reaches history):

- ``adjudicate_claim``: ``ClaimLineMessage`` -> ``ClaimAnswer`` (POLICY.md, Claims)
- ``provide_info``: ``ProvideInfoInput`` -> ``ProvideInfoResult``
- ``decide_review``: ``ReviewDecisionInput`` -> ``ReviewDecisionResult``
- ``request_renewal``: ``RenewalRequestInput`` -> ``RenewalResult`` (Section IV)
- ``extend_period``: ``ExtendPeriodInput`` -> ``ExtendPeriodResult``
- ``extend_review``: ``ExtendReviewInput`` -> ``ExtendReviewResult``: a reviewer extends
  the open review's decision clock once, by 1 to 14 days, with a reason (issue #17);
  its validator refuses a second extension or a case with no open review
- ``appeal``: ``AppealInput`` -> ``AppealResult``
- ``withdraw``: ``WithdrawInput`` -> ``WithdrawResult``
- ``record_clinical_event``: ``ClinicalEventMessage`` -> ``ClinicalEventResult``; its
  validator refuses an event dated outside the case's day of receipt .. today
  and a retraction of an unknown, unretractable or already retracted event
  (CONTRACT.md, "Clinical event"); repeated event ids are answered, ignored.
- ``first_decision``: no input -> ``FirstDecisionResult`` (the ``status`` view once
  the case has left ``received``, and whether this call was the first submission
  the case received); the client submits with update-with-start on it.

Signal: ``clinical_event`` (``ClinicalEventMessage``), kept for cases that recorded
it: repeated event ids are ignored, and an event the update would refuse is
dropped with a log line.

Who acts is never what a caller writes: each action's input is what the
caller states (``ReviewDecision``, ``ProvideInfo`` …: the API's request
bodies) plus who did it (``reviewer_id``, ``requested_by``, ``sent_by``),
which the API sets from the credential's subject (README, Security) and
``priorauth simulate`` from the scenario.

Queries: ``status`` -> ``CaseStatusView``, ``periods`` -> ``PeriodsView``,
``cycles`` -> ``CyclesView``, ``units`` -> ``UnitsView``, ``history`` ->
``HistoryView``, ``request`` -> ``PARequest`` (the request with the facts received
since merged in: PHI, read by the reviewer workbench only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.case.state import LogEntry, NoticeRecord, StatusChange
from domain.claim import ClaimAnswer, ClaimLine
from domain.clinical_event import ClinicalEvent
from domain.decision import Reason
from domain.review_extension import ReviewExtensionRequest
from domain.strict import JsonInt

# ---------------------------------------------------------------------------
# Updates


class UpdateOutcome(BaseModel):
    """What every update but ``adjudicate_claim`` returns: accepted or refused, and why."""

    accepted: bool
    reason: str = ""
    status: str
    policy_ref: str = ""


class ClaimLineMessage(ClaimLine):
    """A claim line (CONTRACT.md) and the system that sent it (the credential's subject)."""

    sent_by: str | None = None

    def claim_line(self) -> ClaimLine:
        """The claim line alone, as CONTRACT.md has it (what is fingerprinted and stored)."""
        return ClaimLine.model_construct(
            _fields_set=self.model_fields_set - {"sent_by"},
            **{name: getattr(self, name) for name in ClaimLine.model_fields},
        )

    @classmethod
    def sent(cls, line: ClaimLine, sent_by: str | None) -> ClaimLineMessage:
        return cls.model_construct(
            _fields_set={*line.model_fields_set, "sent_by"}, **dict(line), sent_by=sent_by
        )


class ClinicalEventMessage(ClinicalEvent):
    """A clinical event (CONTRACT.md) and the system that sent it (the credential's subject)."""

    sent_by: str | None = None

    def clinical_event(self) -> ClinicalEvent:
        """The event alone, as CONTRACT.md has it (what the case keeps and the engine reads)."""
        return ClinicalEvent.model_construct(
            _fields_set=self.model_fields_set - {"sent_by"},
            **{name: getattr(self, name) for name in ClinicalEvent.model_fields},
        )

    @classmethod
    def sent(cls, event: ClinicalEvent, sent_by: str | None) -> ClinicalEventMessage:
        return cls.model_construct(
            _fields_set={*event.model_fields_set, "sent_by"}, **dict(event), sent_by=sent_by
        )


class ProvideInfo(BaseModel):
    """Facts that settle a pend: dotted paths or a nested partial request."""

    facts: dict[str, Any] = Field(min_length=1)


class ProvideInfoInput(ProvideInfo):
    # Written by callers before identities came from credentials; read from old histories.
    source: str | None = None
    requested_by: str | None = None


class ProvideInfoResult(UpdateOutcome):
    determination: str | None = None
    missing_facts: list[str] = Field(default_factory=list)


class ReviewDecision(BaseModel):
    """A clinical reviewer's decision on the review the case waits for.

    An approval may grant less than the engine's terms: a shorter period
    (``period_end``, Section I) and/or fewer units (``authorized_units``,
    Section II), never more than the policy allows. A pend names the facts
    the reviewer needs (``missing_facts``: the request's dotted field paths,
    CONTRACT.md); without them the engine's missing facts are asked for.
    """

    determination: Literal["approve", "deny", "pend"]
    rationale: str = ""
    track: str | None = None
    period_end: date | None = None
    authorized_units: JsonInt | None = Field(default=None, ge=1)
    missing_facts: list[str] = Field(default_factory=list, max_length=20)


class ReviewDecisionInput(ReviewDecision):
    reviewer_id: str = Field(min_length=1)


class ReviewDecisionResult(UpdateOutcome):
    determination: str | None = None
    review_kind: str | None = None
    # An approval: the period and units granted (what the reviewer set, or the engine's).
    period_start: date | None = None
    period_end: date | None = None
    authorized_units: int | None = None
    # A pend: the facts asked for.
    missing_facts: list[str] = Field(default_factory=list)


class RenewalRequest(BaseModel):
    """A renewal (Section IV): only the facts that changed since the case's request."""

    facts: dict[str, Any] = Field(default_factory=dict)


class RenewalRequestInput(RenewalRequest):
    requested_by: str | None = None


class PeriodView(BaseModel):
    index: int
    start: date
    end: date
    kind: str
    cycles: int
    first_cycle: int
    authorized_units: int
    units_paid: int = 0
    extended_days: int = 0


class RenewalResult(UpdateOutcome):
    determination: str | None = None
    window_opens: date | None = None
    period: PeriodView | None = None
    reasons: list[Reason] = Field(default_factory=list)


class ExtendPeriod(BaseModel):
    """A reviewer extends the current period (X12 extension) when treatment was paused."""

    days: JsonInt = Field(ge=1, le=365)
    rationale: str = Field(min_length=1)


class ExtendPeriodInput(ExtendPeriod):
    reviewer_id: str = Field(min_length=1)


class ExtendPeriodResult(UpdateOutcome):
    period_end: date | None = None


class ExtendReview(ReviewExtensionRequest):
    """A reviewer extends the open review's decision clock: ``days`` (1..14) and ``reason``
    (domain/review_extension.py; CMS-0057-F). Once per review."""


class ExtendReviewInput(ExtendReview):
    reviewer_id: str = Field(min_length=1)


class ExtendReviewResult(UpdateOutcome):
    review_kind: str | None = None
    days: int | None = None
    due_at: datetime | None = None


class Appeal(BaseModel):
    """An appeal of a denial, within the line of business's appeal window."""

    reason: str = ""


class AppealInput(Appeal):
    requested_by: str | None = None


class AppealResult(UpdateOutcome):
    appeal_deadline: datetime | None = None


class Withdraw(BaseModel):
    """The requester withdraws the case."""

    reason: str = ""


class WithdrawInput(Withdraw):
    requested_by: str | None = None


class WithdrawResult(UpdateOutcome):
    pass


class ClinicalEventResult(UpdateOutcome):
    """``record_clinical_event``: the event recorded (or a repeat, ignored)."""

    event_id: str
    duplicate: bool = False


# ---------------------------------------------------------------------------
# Queries


class CaseStatusView(BaseModel):
    case_id: str
    request_id: str
    status: str
    track: str | None = None
    path: str | None = None
    determination: str | None = None
    line_of_business: str
    urgency: str
    awaiting: str | None = None
    missing_facts: list[str] = Field(default_factory=list)
    pend_deadline: datetime | None = None
    review_kind: str | None = None
    review_due: datetime | None = None
    review_extended_days: int = 0
    escalated: bool = False
    appeal_deadline: datetime | None = None
    period_index: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    renewal_window_opens: date | None = None
    renewals_used: int = 0
    max_renewals: int = 0
    cycles_started: int = 0
    total_cycles: int = 0
    units_paid: int = 0
    units_authorized: int = 0
    last_reason: str = ""
    run: int = 1
    # Claims run-out (POLICY.md): the last day the ended case takes claims, and the last
    # date of service it can still pay; None for a case without an approved period.
    run_out_until: date | None = None
    run_out_service_through: date | None = None
    # The case's policy, "policy_id@version" (None: a case started before cases named it,
    # the Blincyto policy).
    policy_ref: str | None = None


class PeriodsView(BaseModel):
    periods: list[PeriodView] = Field(default_factory=list)
    current: int | None = None


class CycleView(BaseModel):
    cycle: int
    start: date
    phase: str
    cycle_days: int
    started_by: str


class CyclesView(BaseModel):
    cycles: list[CycleView] = Field(default_factory=list)
    total_cycles: int = 0
    prior_cycles: int = 0


class UnitsView(BaseModel):
    units_paid: int = 0
    units_authorized: int = 0
    by_period: list[PeriodView] = Field(default_factory=list)
    claims: list[ClaimAnswer] = Field(default_factory=list)


class HistoryView(BaseModel):
    status_changes: list[StatusChange] = Field(default_factory=list)
    notifications: list[NoticeRecord] = Field(default_factory=list)
    entries: list[LogEntry] = Field(default_factory=list)


# The refusal type of ``first_decision`` for a repeat of a case already decided: the
# client answers that repeat from the status query (the refusal leaves no event).
ALREADY_DECIDED = "AlreadyDecided"


class FirstDecisionResult(BaseModel):
    """``first_decision``'s answer: the case once decided, and whether this submission
    was the first the case received (the one that started it: 201, not 200)."""

    view: CaseStatusView
    first_submission: bool = False


__all__ = [
    "ALREADY_DECIDED",
    "Appeal",
    "AppealInput",
    "AppealResult",
    "CaseStatusView",
    "ClaimAnswer",
    "ClaimLine",
    "ClaimLineMessage",
    "ClinicalEvent",
    "ClinicalEventMessage",
    "ClinicalEventResult",
    "CycleView",
    "CyclesView",
    "ExtendPeriod",
    "ExtendPeriodInput",
    "ExtendPeriodResult",
    "ExtendReview",
    "ExtendReviewInput",
    "ExtendReviewResult",
    "FirstDecisionResult",
    "HistoryView",
    "PeriodView",
    "PeriodsView",
    "ProvideInfo",
    "ProvideInfoInput",
    "ProvideInfoResult",
    "RenewalRequest",
    "RenewalRequestInput",
    "RenewalResult",
    "ReviewDecision",
    "ReviewDecisionInput",
    "ReviewDecisionResult",
    "UnitsView",
    "UpdateOutcome",
    "Withdraw",
    "WithdrawInput",
    "WithdrawResult",
]
