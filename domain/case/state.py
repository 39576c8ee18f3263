"""The state of one case, carried whole across continue-as-new (DESIGN.md, step 6).

Everything a later run needs lives here: the facts as merged so far, the
periods and cycles granted and given, the claim answers (for idempotence and
queries; the ledger stays the source of truth for units), the clinical events
that feed Section IV, the open clocks, and the log the queries and
``priorauth simulate`` read. Pure data: no clock, no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.case.track_terms import TrackTerms
from domain.case.transitions import LIVE_STATUSES, CaseStatus
from domain.claim import ClaimAnswer
from domain.clinical_event import ClinicalEvent
from domain.decision import Authorization, Decision, Reason
from domain.request import PARequest

ReviewKind = Literal["initial", "appeal", "renewal"]


class PeriodState(BaseModel):
    """One authorization period (Section I), with the units paid against it (Section II)."""

    start: date
    end: date
    kind: Literal["initial", "renewal"] = "initial"
    cycles: int
    first_cycle: int = 1
    authorized_units: int
    extended_days: int = 0
    units_paid: int = 0

    @classmethod
    def granted(cls, auth: Authorization, kind: Literal["initial", "renewal"]) -> PeriodState:
        """The period an approval grants (Section I: its dates, cycles and units)."""
        return cls(
            start=auth.start,
            end=auth.end,
            kind=kind,
            cycles=auth.cycles,
            first_cycle=auth.first_cycle,
            authorized_units=auth.authorized_units,
        )

    @property
    def last_cycle(self) -> int:
        return self.first_cycle + self.cycles - 1

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class CycleState(BaseModel):
    """A cycle as given: it starts at its first paid claim or a ``cycle_started`` event."""

    cycle: int
    start: date
    phase: str = ""
    cycle_days: int = 0
    started_by: Literal["claim", "event"] = "claim"

    @property
    def next_start(self) -> date:
        return self.start + timedelta(days=self.cycle_days)


class StatusChange(BaseModel):
    status: str
    at: datetime
    day: int
    reason: str = ""


class NoticeRecord(BaseModel):
    kind: str
    key: str
    at: datetime
    day: int


class LogEntry(BaseModel):
    """One line of the case's story (the ``history`` query)."""

    at: datetime
    day: int
    kind: str
    text: str
    policy_ref: str = ""
    actor: str | None = None


class PendingReview(BaseModel):
    """A clinical review the case waits for, with its decision clock (DESIGN.md)."""

    kind: ReviewKind
    recommendation: str | None = None
    assigned_at: datetime
    due_at: datetime
    escalate_at: datetime
    exclude_reviewer: str | None = None
    renewal_facts: dict[str, Any] = Field(default_factory=dict)
    renewal_decision: dict[str, Any] | None = None  # the engine's, without its trace
    trace_key: str | None = None  # the decision row that holds the recommendation's trace
    reasons: list[Reason] = Field(default_factory=list)
    overdue: bool = False
    # A reviewer extended the decision clock (issue #17): by these days, once per review.
    extended_days: int = 0
    # Which review this is, as the decisions table names it: initial, appeal, renewal:<n>.
    label: str = ""


class DiscontinuedFrom(BaseModel):
    """What a discontinuation set aside, to reinstate the case if its event is retracted.

    CONTRACT.md, "Clinical event": a case discontinued by a ``death`` or
    ``discontinued`` event entered in error returns to the status it had, with
    its later periods, open renewal review and pended renewal facts.
    """

    event_id: str
    status: str
    later_periods: list[PeriodState] = Field(default_factory=list)
    review: PendingReview | None = None
    escalated: bool = False
    renewal_pending_info: dict[str, Any] | None = None


class ClaimRecord(BaseModel):
    """The answer given to one claim line (claim id + line + reversal), for idempotence."""

    fingerprint: str
    answer: ClaimAnswer
    date_of_service: date


class CaseState(BaseModel):
    """All a case knows; the one argument (with the input) of every continued run."""

    case_id: str
    status: CaseStatus = "received"
    request: PARequest
    received_day: date
    clock_offset_seconds: float = 0.0
    runs: int = 1
    # The policy the case runs under ("policy_id@version"); None: the request's drug's.
    policy_ref: str | None = None

    # The engine's latest decision, without its trace once recorded (the trace is in
    # PostgreSQL under decision_key; a cached case need not hold it).
    decision: Decision | None = None
    decision_key: str | None = None
    track: str | None = None
    path: str | None = None
    determination: str | None = None
    missing_facts: list[str] = Field(default_factory=list)
    prior_cycles: int = 0

    periods: list[PeriodState] = Field(default_factory=list)
    period_index: int = 0
    renewals_used: int = 0
    # The renewals this case may have in all, from its latest grant (Section I: fewer
    # than the track's maximum when prior cycles leave fewer cycles). None: a case
    # granted before grants said so; the track's maximum applies.
    max_renewals: int | None = None
    terms: TrackTerms | None = None
    cycles: list[CycleState] = Field(default_factory=list)
    boundaries_logged: list[int] = Field(default_factory=list)

    claims: dict[str, ClaimRecord] = Field(default_factory=dict)
    # The records of ``claims`` as JSON text, moved here when the claims run-out began:
    # still one answer per line, in a fifth of the memory of the models.
    claims_archived: dict[str, str] = Field(default_factory=dict)
    units_paid: int = 0
    events_seen: list[str] = Field(default_factory=list)
    clinical_events: list[ClinicalEvent] = Field(default_factory=list)
    death_date: date | None = None
    discontinued_date: date | None = None
    discontinued_from: DiscontinuedFrom | None = None
    withdrawn_on: date | None = None
    # Claims run-out (POLICY.md): the last day the ended case takes claims; set when the
    # case ends with an approved period (its run ends the day after).
    run_out_until: date | None = None

    pend_deadline: datetime | None = None
    review: PendingReview | None = None
    escalated: bool = False
    denied_by: str | None = None
    appeal_deadline: datetime | None = None
    appeals_used: int = 0
    # The reviews whose decision clock was extended (``PendingReview.label``): once each
    # (domain/review_extension.py; migration 0007 refuses a second row for the same one).
    extended_reviews: list[str] = Field(default_factory=list)
    renewal_pending_info: dict[str, Any] | None = None

    notices_sent: list[str] = Field(default_factory=list)
    status_changes: list[StatusChange] = Field(default_factory=list)
    notifications: list[NoticeRecord] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)
    decision_seq: int = 0
    projection_version: int = 0
    # Submissions of the request the case has received (``first_decision`` calls): the
    # first is the one that started it, so a repeat is told from it without asking.
    submissions: int = 0
    last_reason: str = ""

    # ------------------------------------------------------------ business calendar
    # Business time is the workflow's time shifted by ``clock_offset_seconds``, read in
    # the request's time zone; day 0 is the day the request was received.

    @property
    def tz(self) -> tzinfo | None:
        return self.request.received_at.tzinfo

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=self.tz)

    def day_number(self, at: datetime) -> int:
        return (at.astimezone(self.tz).date() - self.received_day).days

    def period_end_at(self, period: PeriodState) -> datetime:
        """A period covers its last day whole: it ends at the midnight after it (Section I)."""
        return self.midnight(period.end + timedelta(days=1))

    # ------------------------------------------------------------ terms of the grant

    @property
    def allowed_renewals(self) -> int:
        """Section I: the renewals this case may have in all (its latest grant says, after
        prior cycles; a case granted before grants said so has the track's maximum)."""
        if self.max_renewals is not None:
            return self.max_renewals
        return self.terms.max_renewals if self.terms else 0

    def renewal_possible(self) -> bool:
        """Section IV.1 and I: renewable, renewals left and cycles left after the last period."""
        terms = self.terms
        if terms is None or not terms.renewable or not self.periods:
            return False
        return (
            self.renewals_used < self.allowed_renewals
            and self.periods[-1].last_cycle < terms.total_cycles
        )

    def window_opens(self, period: PeriodState) -> date | None:
        """Section IV.2: ``end - N`` days (N from the policy data), when a renewal is possible."""
        if self.terms is None or not self.renewal_possible():
            return None
        return period.end - timedelta(days=self.terms.renewal_window_days)

    def notice_key(self, kind: str, n: int) -> str:
        """A notice's outbox key: ``case:kind:period:n`` (the outbox is unique on it)."""
        return f"{self.case_id}:{kind}:{self.period_index}:{n}"

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def period(self) -> PeriodState | None:
        if not self.periods:
            return None
        return self.periods[min(self.period_index, len(self.periods) - 1)]

    def claim_record(self, key: str) -> ClaimRecord | None:
        """The answer already given to a claim line (claim id + line + reversal), if any."""
        record = self.claims.get(key)
        if record is None and key in self.claims_archived:
            record = ClaimRecord.model_validate_json(self.claims_archived[key])
        return record

    def claim_answers(self) -> list[ClaimAnswer]:
        """Every answer given, in the order the lines came."""
        archived = [ClaimRecord.model_validate_json(text) for text in self.claims_archived.values()]
        return [r.answer for r in archived] + [r.answer for r in self.claims.values()]

    def archive_claims(self) -> None:
        """Keep the answers given so far as JSON text only (claims run-out: a case that
        waits for late claims holds as little as it can)."""
        self.claims_archived.update({k: r.model_dump_json() for k, r in self.claims.items()})
        self.claims = {}

    def claims_through(self) -> date | None:
        """The last date of service a claim can still be paid for (POLICY.md, Claims run-out):
        the last approved period's end, or the day of death or discontinuation, or the day
        before the withdrawal, whichever is earliest; None without a payable day."""
        if not self.periods:
            return None
        last = self.periods[-1].end
        for cut in (self.death_date, self.discontinued_date):
            if cut is not None:
                last = min(last, cut)
        if self.withdrawn_on is not None:
            last = min(last, self.withdrawn_on - timedelta(days=1))
        return last if last >= self.periods[0].start else None

    def run_out_end(self, timely_filing_days: int) -> date | None:
        """The last day a late claim can arrive in time: the limit after the last period's
        end, or after the day before a withdrawal when that comes first.

        Not counted from a death or discontinuation date: the run-out's end is a search
        attribute, stored in clear, and must not reveal a clinical date of the member (a
        date of death is PHI). Claims for days after those dates are still refused by
        their own checks (CARC 13, 197), so the case only stays open a little longer.
        """
        if self.claims_through() is None:
            return None
        basis = self.periods[-1].end
        if self.withdrawn_on is not None:
            basis = min(basis, self.withdrawn_on - timedelta(days=1))
        return basis + timedelta(days=timely_filing_days)

    @property
    def retracted(self) -> dict[str, str]:
        """Retracted event id -> the retraction's event id."""
        return {e.retraction.retracts: e.event_id for e in self.clinical_events if e.retraction}

    @property
    def cycles_started(self) -> int:
        return len(self.cycles)

    @property
    def units_authorized(self) -> int:
        return sum(p.authorized_units for p in self.periods)
