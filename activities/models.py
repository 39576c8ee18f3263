"""Inputs and results of every activity: one input and one result model per call.

These models are the contract between the workflow (which calls activities)
and the activity classes (which do the I/O). New fields always get defaults,
so histories recorded by older code still decode.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from domain.case.asks import EvaluationAsk
from domain.case.config import CaseConfig
from domain.case.state import CaseState
from domain.case.track_terms import CyclePlan, TrackTerms
from domain.claim import ClaimAnswer, ClaimLine
from domain.clinical_event import ClinicalEvent
from domain.decision import Authorization, Decision, Dosing
from domain.renewal import RenewalInput
from domain.request import PARequest

DecisionKind = Literal[
    "initial", "info", "review", "appeal", "renewal", "extension", "withdrawal", "review_extension"
]


class EvaluateRequestInput(BaseModel):
    """Decide an initial request (or a pended one with facts added), Section III."""

    request: PARequest
    as_of: date
    prior_cycles: int = 0
    # A setting for lines of business whose engine denials stand without a reviewer.
    allow_automatic_denial: bool = False
    # The case's policy, "policy_id@version" (CaseInput.policy_ref); None: by the
    # request's drug where the input has the request, else the Blincyto policy.
    policy_ref: str | None = None


class MemberHistoryInput(BaseModel):
    """Ask for what the system already knows of a member on one drug (Section I, prior
    therapy): the history is keyed by member and the case's policy."""

    member_ref: str
    exclude_case_id: str | None = None
    # The case's policy, "policy_id@version" (CaseInput.policy_ref); None: by the
    # request's drug where the input has the request, else the Blincyto policy.
    policy_ref: str | None = None


class MemberHistory(BaseModel):
    prior_cycles: int = 0


class RecordDecisionInput(BaseModel):
    """One row of the append-only decisions table, keyed by ``decision_key``."""

    decision_key: str
    case_id: str
    request_id: str
    kind: DecisionKind
    determination: str
    automated: bool
    reviewer_id: str | None = None
    # Whose message this decision answers (the credential's subject): the submitter of
    # the request or the facts, the renewal's requester, the reviewer, the withdrawer.
    actor: str | None = None
    rationale: str | None = None
    decision: Decision | None = None
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    trace: dict[str, Any] | None = None
    # No trace given: the row takes the trace recorded under this key (a reviewer's
    # decision on the engine's recommendation carries the engine's trace).
    trace_from_key: str | None = None
    policy_id: str
    policy_version: str
    urgency: str
    line_of_business: str
    received_at: datetime
    decided_at: datetime
    # The facts the decision was made on: the case's request with every fact merged so
    # far, and the member's prior cycles counted (policy impact analysis reads them).
    request: PARequest | None = None
    prior_cycles: int | None = None
    # kind review_extension: the review whose clock it extends, and its new deadline.
    extends_review: str | None = None
    due_at: datetime | None = None
    # What a reviewer's approval granted: the period and units (fewer than the engine's
    # when the reviewer limited them, issue #16; migration 0011).
    granted: Authorization | None = None


class RecordResult(BaseModel):
    inserted: bool


class PeriodTerms(BaseModel):
    """One authorization period as the claims ledger needs it (Section I, II)."""

    start: date
    end: date
    kind: str = "initial"
    cycles: int
    authorized_units: int
    first_cycle: int = 1  # Section I: numbered on from the member's prior cycles


class AuthorizationProjection(BaseModel):
    """The current state of a case, kept in ``authorizations`` by the workflow.

    ``version`` only grows; an older projection never overwrites a newer one.
    """

    case_id: str
    request_id: str
    member_ref: str
    version: int
    status: str
    track: str | None = None
    path: str | None = None
    line_of_business: str
    urgency: str
    periods: list[PeriodTerms] = Field(default_factory=list)
    renewals_used: int = 0
    cycles_started: int = 0
    units_authorized: int = 0
    # No units_paid: the row takes the ledger's sum (activities/store.py). A field of
    # that name from an older worker is ignored.
    period_end: date | None = None
    escalated: bool = False
    received_at: datetime
    updated_at: datetime
    # The case's policy, "policy_id@version" (CaseInput.policy_ref); None: by the
    # request's drug where the input has the request, else the Blincyto policy.
    policy_ref: str | None = None


class AdjudicateClaimInput(BaseModel):
    """A claim line against a case (live or in its claims run-out); the ledger decides it
    atomically (Section II; POLICY.md, Claims run-out)."""

    case_id: str
    member_ref: str
    line: ClaimLine
    periods: list[PeriodTerms]
    death_date: date | None = None
    discontinued_date: date | None = None
    withdrawn_on: date | None = None
    # The case's business day when it received the line, and the timely-filing limit in
    # days; with no limit the ledger takes the policy data's for ``line_of_business``.
    received_on: date | None = None
    line_of_business: str | None = None
    timely_filing_days: int | None = None
    sent_by: str | None = None  # the claims system's subject, recorded with the line
    # The case's policy, "policy_id@version" (CaseInput.policy_ref); None: by the
    # request's drug where the input has the request, else the Blincyto policy.
    policy_ref: str | None = None


class ClinicalEventInput(BaseModel):
    case_id: str
    member_ref: str
    event: ClinicalEvent
    received_at: datetime
    sent_by: str | None = None  # the clinical system's subject, recorded with the event


NotificationKind = Literal[
    "approval",
    "pend",
    "review_assignment",
    "denial",
    "not_applicable",
    "renewal_window_open",
    "renewal_reminder",
    "renewal_approved",
    "renewal_refused",
    "expiry",
    "completed",
    "escalation",
    "appeal_received",
    "withdrawn",
    "discontinued",
    "period_extended",
    "review_extended",
    "reinstated",
]


class NotificationInput(BaseModel):
    """A notice: written once to the outbox under ``key``, then delivered once."""

    key: str
    case_id: str
    kind: NotificationKind
    recipient: str
    payload: dict[str, Any] = Field(default_factory=dict)
    actor: str | None = None  # whose message caused it; None: the case's clocks
    # The case's policy, "policy_id@version" (CaseInput.policy_ref); None: by the
    # request's drug where the input has the request, else the Blincyto policy.
    policy_ref: str | None = None


class CaseEffectsInput(BaseModel):
    """What a case writes after a message, in one transaction: its notices into the
    outbox (delivered by the worker's outbox dispatcher) and its projection."""

    notices: list[NotificationInput] = Field(default_factory=list)
    projection: AuthorizationProjection | None = None


class CaseEffectsResult(BaseModel):
    notices_written: int = 0
    projected: bool = False


class NotificationResult(BaseModel):
    status: Literal["sent", "pending", "failed"]
    channel: str
    attempts: int = 0


# ---------------------------------------------------------------------------
# Evaluation (activities/evaluation.py): the pure domain calls, as activities.


class EvaluationResult(BaseModel):
    """The engine's decision on a request, with its track's terms when it names one."""

    decision: Decision
    terms: TrackTerms | None = None


class GrantTermsInput(BaseModel):
    """A reviewer approves on a track the engine did not grant: the terms of that track."""

    request: PARequest
    track: str
    as_of: date
    prior_cycles: int = 0
    # The case's policy, "policy_id@version" (CaseInput.policy_ref); None: by the
    # request's drug where the input has the request, else the Blincyto policy.
    policy_ref: str | None = None


class DecisionRecordContext(BaseModel):
    """What a decision row needs besides the decision (``RecordDecisionInput``'s rest)."""

    decision_key: str
    case_id: str
    kind: DecisionKind
    actor: str | None = None
    decided_at: datetime


class CaseWrites(BaseModel):
    """The case as the decision finds it, for the writes that follow the decision.

    The activity takes the decision into a copy of the case (the pure aggregate, at
    the workflow's time ``server_now``) and writes the notices and the projection that
    come of it — with ``notices`` and the projection the case already owed — in the
    decision row's transaction; the workflow takes the same decision into the case
    itself, at the time recorded with the answer, and checks the digest of the writes
    (``DecideRequestResult.written``). The activity takes ``state`` as its own (it is
    decoded afresh for each attempt; an in-process caller passes a copy).
    """

    state: CaseState
    config: CaseConfig
    member_ref: str
    server_now: datetime
    notices: list[NotificationInput] = Field(default_factory=list)
    project: bool = False


class DecideRequestInput(BaseModel):
    """Evaluate a request (Section III) and record the decision, in one step.

    ``member_ref`` set: first read the member's prior cycles on the case's drug from the
    system's record (Section I, prior therapy) and take the larger of those and
    ``prior_cycles``.
    """

    evaluation: EvaluateRequestInput
    record: DecisionRecordContext
    member_ref: str | None = None
    # Set: also write what the case writes after the decision (its notices and its
    # projection), in the decision row's transaction (``CaseWrites``).
    case: CaseWrites | None = None

    @classmethod
    def of(
        cls, ask: EvaluationAsk, case_id: str, member_ref: str, case: CaseWrites | None
    ) -> DecideRequestInput:
        """The input for the case's ask (``CaseAggregate.evaluation``)."""
        return cls(
            evaluation=EvaluateRequestInput(
                request=ask.request,
                as_of=ask.as_of,
                prior_cycles=ask.prior_cycles,
                allow_automatic_denial=ask.allow_automatic_denial,
                policy_ref=ask.policy_ref,
            ),
            record=DecisionRecordContext(
                decision_key=ask.decision_key,
                case_id=case_id,
                kind=cast(DecisionKind, ask.kind),  # "initial" or "info"
                actor=ask.actor,
                decided_at=ask.decided_at,
            ),
            member_ref=member_ref if ask.read_history else None,
            case=case,
        )

    def ask(self) -> EvaluationAsk:
        """The case's ask this input was made of (``of``)."""
        return EvaluationAsk(
            kind=self.record.kind,
            decision_key=self.record.decision_key,
            request=self.evaluation.request,
            as_of=self.evaluation.as_of,
            prior_cycles=self.evaluation.prior_cycles,
            allow_automatic_denial=self.evaluation.allow_automatic_denial,
            read_history=self.member_ref is not None,
            actor=self.record.actor,
            decided_at=self.record.decided_at,
            policy_ref=self.evaluation.policy_ref,
        )


class DecideRequestResult(BaseModel):
    """The decision (its trace is in its row, not here), its track's terms, the prior
    cycles it was decided with; ``written``: the digest of the notices and projection
    written with it (``activities.case_writes.digest``), None when none were asked;
    ``server_now``: the workflow time they were computed at (``CaseWrites.server_now``),
    recorded here so a replay takes the decision into the case at that same time."""

    decision: Decision
    terms: TrackTerms | None = None
    prior_cycles: int = 0
    written: str | None = None
    server_now: datetime | None = None


class DecideRenewalInput(BaseModel):
    """Evaluate a renewal (Section IV) and record it, in one step; ``prior_cycles``: the
    member's prior cycles the case counts (kept on the row with the facts)."""

    renewal: RenewalInput
    record: DecisionRecordContext
    prior_cycles: int | None = None
    policy_ref: str | None = None


class GrantTerms(BaseModel):
    authorization: Authorization
    dosing: Dosing | None = None
    terms: TrackTerms


# Renewals (Section IV) use the domain's own models: ``domain.renewal.RenewalInput``
# in (inside ``DecideRenewalInput``), ``domain.renewal.RenewalDecision`` out.


__all__ = [
    "AdjudicateClaimInput",
    "AuthorizationProjection",
    "CaseEffectsInput",
    "CaseEffectsResult",
    "ClaimAnswer",
    "ClinicalEventInput",
    "CyclePlan",
    "DecideRenewalInput",
    "DecideRequestInput",
    "DecideRequestResult",
    "DecisionRecordContext",
    "EvaluateRequestInput",
    "EvaluationResult",
    "GrantTerms",
    "GrantTermsInput",
    "MemberHistory",
    "MemberHistoryInput",
    "NotificationInput",
    "NotificationResult",
    "PeriodTerms",
    "RecordDecisionInput",
    "RecordResult",
    "TrackTerms",
]
