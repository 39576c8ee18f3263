"""One prior-authorization case as a pure aggregate (DESIGN.md, How data flows; Case statuses).

``CaseAggregate`` holds the case's state (``domain/case/state.py``) and takes
one message at a time — the request, an evaluation's answer, facts, a
reviewer's decision, an appeal, a withdrawal, a renewal and its evaluation, a
period extension, a claim line's answer, a clinical event, a due deadline —
and returns the effects to run (``domain/case/effects.py``: record a decision,
notify, record an event, upsert search attributes, project, continue as new,
end the run). Status changes go through the one transition table
(``domain/case/transitions.py``), clocks come from the one deadline list
(``domain/case/deadlines.py``). No I/O, no clock: the workflow sets the
business time (``at``) before each message.

Who acts comes with each message (the API sets it from the caller's
credential): every decision row and notice a message causes names it; the
case's own clocks act as None.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any, Literal

from domain.case import deadlines as clocks
from domain.case.asks import EvaluationAsk, RenewalAsk, TermsAsk
from domain.case.config import CaseConfig
from domain.case.effects import (
    ContinueAsNew,
    Effect,
    EndRun,
    Notify,
    Project,
    RecordClinicalEvent,
    RecordDecision,
    SearchAttributes,
)
from domain.case.event_checks import EventProblem, describe_event, event_problem, recorded_event
from domain.case.messages import (
    AppealInput,
    AppealResult,
    CaseStatusView,
    ClaimLineMessage,
    ClinicalEventMessage,
    ClinicalEventResult,
    CyclesView,
    CycleView,
    ExtendPeriodInput,
    ExtendPeriodResult,
    ExtendReviewInput,
    ExtendReviewResult,
    HistoryView,
    PeriodsView,
    PeriodView,
    ProvideInfoInput,
    ProvideInfoResult,
    RenewalResult,
    ReviewDecisionInput,
    ReviewDecisionResult,
    UnitsView,
    WithdrawInput,
    WithdrawResult,
)
from domain.case.policy_refs import (
    REF_CLOCKS,
    REF_CRITERIA,
    REF_EVENTS,
    REF_PERIOD,
    REF_RENEWAL,
    REF_RUN_OUT,
    REF_UNITS,
    first_reason,
    reason_payloads,
)
from domain.case.state import (
    CaseState,
    ClaimRecord,
    CycleState,
    DiscontinuedFrom,
    LogEntry,
    NoticeRecord,
    PendingReview,
    PeriodState,
    ReviewKind,
    StatusChange,
)
from domain.case.track_terms import TrackTerms
from domain.case.transitions import LIVE_STATUSES, CaseEvent, transition
from domain.claim import ClaimAnswer, ClaimLine
from domain.clinical_event import DISCONTINUING, ClinicalEvent, effective_events
from domain.decision import Authorization, Decision, PolicyRef, Reason
from domain.facts import fact_path_problem, merge_facts
from domain.renewal import RenewalDecision, RenewalInput
from domain.request import PARequest
from domain.review_extension import DETERMINATION as EXTENDED
from domain.review_extension import KIND as REVIEW_EXTENSION
from domain.review_extension import ExtensionRefused, extend_review_clock

WITHDRAWABLE = frozenset(
    {"received", "pended", "in_review", "appealed", "active", "renewal_window"}
)
INFO_STATUSES = frozenset({"pended", "in_review", "appealed"})
#: Bound on deadlines handled in one go (each one moves the case on; a loop is a bug).
MAX_DUE = 10_000


class InvalidReview(ValueError):
    """A reviewer's decision that does not fit the case or the policy: the fields and why
    (``{field, message}``, never a value); nothing changed. The workflow answers 422."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))
        self.problems = problems


def review_input_problems(inp: ReviewDecisionInput) -> list[dict[str, str]]:
    """What is wrong with a reviewer's decision on its own (before the case's terms): terms
    on a decision that is not an approval, facts on one that is not a pend, a path that is
    no field of the request (CONTRACT.md), limited terms or named facts without a reason."""
    problems: list[dict[str, str]] = []
    if inp.determination != "approve":
        for name in ("period_end", "authorized_units"):
            if getattr(inp, name) is not None:
                problems.append({"field": name, "message": "only an approval sets the terms"})
    if inp.determination != "pend" and inp.missing_facts:
        problems.append({"field": "missing_facts", "message": "only a pend names facts"})
    for i, path in enumerate(inp.missing_facts):
        problem = fact_path_problem(path)
        if problem is not None:
            problems.append({"field": f"missing_facts[{i}]", "message": problem})
    limits = inp.period_end is not None or inp.authorized_units is not None
    if (limits or inp.missing_facts) and not inp.rationale.strip():
        problems.append(
            {"field": "rationale", "message": "is required with limited terms or named facts"}
        )
    return problems


def limited_terms(auth: Authorization, inp: ReviewDecisionInput) -> Authorization:
    """The period the reviewer grants: ``auth`` (what the policy allows on the track), or a
    shorter period (Section I) and/or fewer units (Section II); never longer or more.

    Raises ``InvalidReview`` naming the field, the limit and the section."""
    problems: list[dict[str, str]] = []
    end, units = inp.period_end, inp.authorized_units
    if end is not None and not auth.start <= end <= auth.end:
        problems.append(
            {
                "field": "period_end",
                "message": f"must be from {auth.start} to {auth.end}: the period the policy "
                f"allows on this track (policy Section {REF_PERIOD})",
            }
        )
    if units is not None and units > auth.authorized_units:
        problems.append(
            {
                "field": "authorized_units",
                "message": f"must be at most {auth.authorized_units}: the units the policy "
                f"allows for the period (policy Section {REF_UNITS})",
            }
        )
    if problems:
        raise InvalidReview(problems)
    change: dict[str, Any] = {}
    if end is not None:
        change.update(end=end, days=(end - auth.start).days + 1)
    if units is not None:
        change["authorized_units"] = units
    return auth.model_copy(update=change) if change else auth


def claim_key(line: ClaimLine) -> str:
    """A claim line's identity: claim id + line + reversal (the sender is not part of it)."""
    return f"{line.claim_id}:{line.line}:{'reversal' if line.reversal else 'original'}"


def claim_fingerprint(line: ClaimLine) -> str:
    text = json.dumps(line.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class CaseAggregate:
    """The case: its state and every rule of its lifecycle; messages in, effects out."""

    def __init__(self, state: CaseState, config: CaseConfig, member_ref: str) -> None:
        self.s = state
        self.config = config
        self.member_ref = member_ref
        #: The case has ended (and its claims run-out, if any, is over): nothing more is taken.
        self.finished = False
        self.now = state.request.received_at
        self.actor: str | None = None
        self._out: list[Effect] = []
        self._dirty = False

    @classmethod
    def new(
        cls,
        case_id: str,
        request: PARequest,
        config: CaseConfig,
        member_ref: str,
        policy_ref: str | None = None,
    ) -> CaseAggregate:
        offset = 0.0
        if config.clock_anchor is not None:
            offset = (request.received_at - config.clock_anchor).total_seconds()
        state = CaseState(
            case_id=case_id,
            request=request,
            received_day=request.received_on,
            clock_offset_seconds=offset,
            policy_ref=policy_ref,
        )
        return cls(state, config, member_ref)

    @classmethod
    def continued(cls, state: CaseState, config: CaseConfig, member_ref: str) -> CaseAggregate:
        state.runs += 1
        return cls(state, config, member_ref)

    # ------------------------------------------------------------------ the clock

    def at(self, server_now: datetime) -> CaseAggregate:
        """Set the business time from the workflow's: shifted by the case's clock offset."""
        self.now = server_now + timedelta(seconds=self.s.clock_offset_seconds)
        return self

    @property
    def today(self) -> date:
        return self.now.astimezone(self.s.tz).date()

    def timer_delay(self, deadline: clocks.Deadline) -> timedelta:
        """How long the workflow's timer sleeps for ``deadline`` (at least a second)."""
        return max(deadline.at - self.now, timedelta(seconds=1))

    def next_deadline(self) -> clocks.Deadline | None:
        return clocks.next_deadline(self.s, self.config)

    # ------------------------------------------------------------------ plumbing

    def _begin(self, actor: str | None = None) -> None:
        self._out = []
        self._dirty = False
        self.actor = actor

    def _done(self) -> list[Effect]:
        out = self._out
        if self._dirty:
            out.append(Project())
        self._out = []
        self._dirty = False
        return out

    def _emit(self, effect: Effect) -> None:
        self._out.append(effect)

    def _changed(self) -> None:
        self._dirty = True

    def _log(self, kind: str, text: str, policy_ref: str = "", actor: str | None = None) -> None:
        self.s.log.append(
            LogEntry(
                at=self.now,
                day=self.s.day_number(self.now),
                kind=kind,
                text=text,
                policy_ref=policy_ref,
                actor=actor,
            )
        )

    def _record_status_change(self, status: str, reason: str) -> None:
        s = self.s
        s.status = status  # type: ignore[assignment]  # a CaseStatus, from the table
        s.status_changes.append(
            StatusChange(status=status, at=self.now, day=s.day_number(self.now), reason=reason)
        )

    def _move(self, event: CaseEvent, reason: str = "", restored: str | None = None) -> None:
        """Change the status by the transition table's row for ``event``."""
        s = self.s
        target, _ref = transition(s.status, event, restored)
        s.last_reason = reason or s.last_reason
        self._changed()
        if target == s.status:
            return
        self._record_status_change(target, reason)
        self._emit(SearchAttributes(status=target))

    def _notify(self, kind: str, payload: dict[str, Any], *, n: int | None = None) -> None:
        """Queue a notice (key ``case:kind:period:n``) naming the actor; once per key."""
        s = self.s
        if n is None:
            prefix = f"{s.case_id}:{kind}:{s.period_index}:"
            n = sum(1 for k in s.notices_sent if k.startswith(prefix))
        key = s.notice_key(kind, n)
        if key in s.notices_sent:
            return
        s.notices_sent.append(key)
        s.notifications.append(
            NoticeRecord(kind=kind, key=key, at=self.now, day=s.day_number(self.now))
        )
        npi = s.request.prescriber.npi or "unknown"
        self._emit(
            Notify(
                key=key,
                kind=kind,
                recipient=f"{self.config.notification_recipient}:{npi}",
                payload=payload,
                actor=self.actor,
            )
        )

    def _next_decision_key(self, kind: str) -> str:
        s = self.s
        s.decision_seq += 1
        return f"{s.case_id}:{kind}:{s.decision_seq}"

    def _record(
        self,
        kind: str,
        determination: str,
        automated: bool,
        *,
        reviewer: str | None = None,
        rationale: str | None = None,
        decision: Decision | None = None,
        trace_from_key: str | None = None,
        granted: Authorization | None = None,
        reasons: list[dict[str, Any]] | None = None,
        extends_review: str | None = None,
        due_at: datetime | None = None,
    ) -> str:
        """Append the decision row, naming the actor; returns its key."""
        s = self.s
        key = self._next_decision_key(kind)
        ref = decision.policy if decision else (s.decision.policy if s.decision else None)
        self._emit(
            RecordDecision(
                decision_key=key,
                kind=kind,
                determination=determination,
                automated=automated,
                decided_at=self.now,
                actor=self.actor,
                reviewer_id=reviewer,
                rationale=rationale,
                decision=decision,
                trace_from_key=trace_from_key,
                policy_id=ref.id if ref else "unknown",
                policy_version=ref.version if ref else "unknown",
                granted=granted,
                reasons=reasons or [],
                extends_review=extends_review,
                due_at=due_at,
            )
        )
        return key

    def _set_escalated(self, value: bool) -> None:
        if self.s.escalated != value:
            self.s.escalated = value
            self._emit(SearchAttributes(escalated=value))

    def _close_review(self) -> None:
        if self.s.review is not None:
            self.s.review = None
            self._set_escalated(False)

    def _period_end_attribute(self) -> SearchAttributes:
        return SearchAttributes(period_end=self.s.midnight(self.s.periods[-1].end))

    # ------------------------------------------------------------------ intake

    def receive(self, actor: str | None) -> list[Effect]:
        """The request arrived (DESIGN.md, How data flows, steps 1-2): searchable at once."""
        self._begin(actor)
        s = self.s
        self._record_status_change("received", "request received")
        self._log("received", f"request {s.request.request_id} received")
        self._emit(SearchAttributes(member_ref=self.member_ref, status="received", escalated=False))
        return self._done()

    def submission(self) -> bool:
        """A submission of the request reached the case: is it the first one?

        Counted when it arrives, before it waits for the decision: the submission
        that started the case comes first (update-with-start hands its update to
        the case's first workflow task ahead of any other), so exactly one
        submission of a request is answered as new, however many race for it.
        """
        self.s.submissions += 1
        return self.s.submissions == 1

    def resume(self) -> list[Effect]:
        """A continued run picks the case up where the last one left it."""
        self._begin()
        self._log("continued", f"run {self.s.runs} continues the case")
        return self._done()

    def evaluation(self, kind: str, actor: str | None) -> EvaluationAsk:
        """Ask for the engine's decision on the request (Section III), recorded as ``kind``."""
        s = self.s
        return EvaluationAsk(
            kind=kind,
            decision_key=self._next_decision_key(kind),
            request=s.request,
            as_of=self.today,
            prior_cycles=s.prior_cycles,
            allow_automatic_denial=s.request.line_of_business
            in self.config.auto_deny_lines_of_business,
            read_history=kind == "initial",
            actor=actor,
            decided_at=self.now,
            policy_ref=s.policy_ref,
        )

    def on_evaluation(
        self,
        ask: EvaluationAsk,
        decision: Decision | None,
        terms: TrackTerms | None = None,
        prior_cycles: int | None = None,
        failure: str | None = None,
    ) -> tuple[str, list[Effect]]:
        """Act on the engine's determination, already recorded (DESIGN.md, step 4).

        ``decision`` None: the evaluation failed (``failure`` says how); a reviewer decides.
        """
        self._begin(ask.actor)
        s = self.s
        if prior_cycles is not None:
            s.prior_cycles = prior_cycles
        if decision is None:
            self._log("evaluation_failed", f"automated evaluation failed: {failure}")
            s.determination = "review"
            reason = Reason(
                code="evaluation_failed",
                policy_ref=REF_CRITERIA,
                text="automated evaluation failed",
            )
            self._open_review("initial", "review", [reason])
            return "review", self._done()
        s.determination = decision.determination
        s.missing_facts = list(decision.missing_facts)
        if terms is not None:
            s.terms = terms
        s.decision_key = ask.decision_key
        s.decision = decision.model_copy(update={"trace": None})  # the trace is in its row
        det = decision.determination
        if det == "approve" and decision.authorization is not None:
            self._grant(decision.authorization, decision, decision.reasons)
        elif s.review is not None:
            # New facts during a review: an approval needs no reviewer, anything
            # else stays with the reviewer as the new recommendation.
            s.review.recommendation = det
            s.review.reasons = decision.reasons
            self._log("review_updated", f"re-evaluated in review: {det}", REF_CRITERIA)
            self._changed()
        elif det == "pend":
            self._pend(decision.missing_facts, decision.reasons)
        elif det == "not_applicable":
            self._move("not_applicable", first_reason(decision.reasons, "Medicare Part B"))
            self._notify(
                "not_applicable",
                {
                    "medicare": decision.medicare.model_dump(mode="json")
                    if decision.medicare
                    else None,
                    "reasons": reason_payloads(decision.reasons),
                },
            )
            self._finish(s.last_reason)
        elif det == "deny" and decision.automated:
            self._deny(None, decision.reasons)
        else:
            # review, a deny recommendation (no adverse decision is automated), or an
            # approve without terms: a clinical reviewer decides.
            self._open_review("initial", det, decision.reasons)
        return det, self._done()

    # ------------------------------------------------------------------ facts

    def info_route(
        self, inp: ProvideInfoInput
    ) -> Literal["renewal", "evaluate"] | ProvideInfoResult:
        """Where facts go: to a pended renewal, to a re-evaluation, or refused."""
        s = self.s
        if s.renewal_pending_info is not None and s.live:
            return "renewal"
        review_kind = s.review.kind if s.review else None
        if s.status not in INFO_STATUSES or review_kind == "renewal":
            return ProvideInfoResult(
                accepted=False,
                status=s.status,
                reason=f"the case is {s.status}: facts are taken while it is pended or in review",
            )
        return "evaluate"

    def facts_for_pended_renewal(self, inp: ProvideInfoInput) -> dict[str, Any]:
        """Facts for the pended renewal: merged over the ones it was pended with."""
        s = self.s
        facts = {**(s.renewal_pending_info or {}), **inp.facts}
        s.renewal_pending_info = None
        self._log(
            "info", "facts received for the pended renewal", REF_RENEWAL, self._info_actor(inp)
        )
        return facts

    def take_facts(self, inp: ProvideInfoInput) -> None:
        """Facts that settle a pend (Section III, rule 3), merged into the request."""
        s = self.s
        s.request = merge_facts(s.request, inp.facts, recorded=True)
        self._log(
            "info",
            f"facts received: {', '.join(sorted(inp.facts))}",
            REF_CRITERIA,
            self._info_actor(inp),
        )

    @staticmethod
    def _info_actor(inp: ProvideInfoInput) -> str | None:
        return inp.requested_by or inp.source

    def info_result(self, determination: str) -> ProvideInfoResult:
        return ProvideInfoResult(
            accepted=True,
            status=self.s.status,
            reason=f"re-evaluated: {determination}",
            policy_ref=REF_CRITERIA,
            determination=determination,
            missing_facts=self.s.missing_facts,
        )

    def renewal_info_result(self, res: RenewalResult) -> ProvideInfoResult:
        return ProvideInfoResult(
            accepted=res.accepted,
            reason=res.reason,
            status=self.s.status,
            policy_ref=REF_RENEWAL,
            determination=res.determination,
            missing_facts=self.s.missing_facts,
        )

    # ------------------------------------------------------------------ status transitions

    def _grant(self, auth: Authorization, decision: Decision | None, reasons: list[Reason]) -> None:
        """Approve on a track: the initial period and its terms (Sections I, II)."""
        s = self.s
        if decision is not None:
            s.track = decision.track or s.track
            s.path = decision.path or s.path
        s.periods = [PeriodState.granted(auth, "initial")]
        s.period_index = 0
        s.max_renewals = auth.max_renewals
        s.determination = "approve"
        s.missing_facts = []
        s.pend_deadline = None
        self._close_review()
        self._emit(
            SearchAttributes(
                track=s.track or "",
                period_end=s.midnight(s.periods[-1].end),
                renewals_used=s.renewals_used,
            )
        )
        self._log(
            "approved",
            f"approved on {s.track}: {auth.start} → {auth.end}, {auth.cycles} cycles "
            f"({auth.first_cycle}–{auth.last_cycle}), {auth.authorized_units} units",
            reasons[0].policy_ref if reasons else REF_PERIOD,
        )
        self._move("approved", f"approved on {s.track}")
        self._notify(
            "approval",
            {
                "track": s.track,
                "period_start": auth.start.isoformat(),
                "period_end": auth.end.isoformat(),
                "cycles": auth.cycles,
                "first_cycle": auth.first_cycle,
                "authorized_units": auth.authorized_units,
                "max_units_per_42_days": auth.max_units_per_42_days,
                "renewals_left": max(0, auth.max_renewals - s.renewals_used),
                "policy_ref": REF_PERIOD,
            },
        )

    def _pend(self, missing: list[str], reasons: list[Reason]) -> None:
        s = self.s
        s.missing_facts = list(missing)
        self._close_review()
        if s.status != "pended" or s.pend_deadline is None:
            s.pend_deadline = self.now + timedelta(days=self.config.pend_deadline_days)
        self._move("pended", "waiting for " + (", ".join(missing) or "information"))
        self._notify(
            "pend",
            {
                "missing_facts": missing,
                "deadline": s.pend_deadline.date().isoformat(),
                "reasons": reason_payloads(reasons),
            },
        )

    def _open_review(
        self,
        kind: ReviewKind,
        recommendation: str | None,
        reasons: list[Reason],
        *,
        exclude: str | None = None,
        renewal: RenewalDecision | None = None,
        renewal_facts: dict[str, Any] | None = None,
        trace_key: str | None = None,
    ) -> None:
        """A clinical reviewer decides, on a clock by urgency and line of business."""
        s = self.s
        now = self.now
        due = now + self.config.decision_clock(s.request.line_of_business, s.request.urgency)
        escalate_at = max(now, due - timedelta(hours=self.config.escalate_before_hours))
        s.review = PendingReview(
            kind=kind,
            recommendation=recommendation,
            assigned_at=now,
            due_at=due,
            escalate_at=escalate_at,
            exclude_reviewer=exclude,
            renewal_facts=renewal_facts or {},
            renewal_decision=renewal.model_dump(mode="json", exclude={"trace"})
            if renewal
            else None,
            trace_key=trace_key,
            reasons=reasons,
            label=f"renewal:{s.renewals_used + 1}" if kind == "renewal" else kind,
        )
        s.pend_deadline = None
        self._set_escalated(False)
        text = f"{kind} review opened (recommendation: {recommendation or 'none'})"
        self._log("review_opened", text, reasons[0].policy_ref if reasons else REF_CLOCKS)
        if kind != "renewal":
            self._move("review_opened", text)
        else:
            self._changed()
        self._notify(
            "review_assignment",
            {
                "queue": "clinical-review" if kind != "appeal" else "appeal-review",
                "due_by": due.isoformat(),
                "urgency": s.request.urgency,
                "stage": kind,
                "reasons": reason_payloads(reasons),
            },
        )

    def _deny(self, reviewer: str | None, reasons: list[Reason], rationale: str = "") -> None:
        """A denial (by a reviewer, or by the engine where a setting allows): appeal window."""
        s = self.s
        self._close_review()
        s.denied_by = reviewer
        window = self.config.appeal_window(s.request.line_of_business)
        can_appeal = s.appeals_used < self.config.max_appeals
        s.appeal_deadline = self.now + window if can_appeal else None
        self._move("denied", rationale or first_reason(reasons, "criteria not met"))
        self._notify(
            "denial",
            {
                "reasons": reason_payloads(reasons),
                "appeal_deadline": s.appeal_deadline.date().isoformat()
                if s.appeal_deadline
                else None,
                "appeal_window_days": window.days if can_appeal else 0,
                "reviewer_id": reviewer,
            },
        )
        if not can_appeal:
            self._finish("denied on appeal")

    def _discontinue(self, event: ClinicalEvent) -> None:
        """Treatment stopped (death or discontinuation): claims after the date are denied."""
        s = self.s
        reason = f"{event.type} reported for {event.date}"
        payload = {"date": event.date.isoformat(), "reason": event.type}
        if s.live:
            # What is set aside is kept: a retraction of the event reinstates it.
            s.discontinued_from = DiscontinuedFrom(
                event_id=event.event_id,
                status=s.status,
                later_periods=s.periods[s.period_index + 1 :],
                review=s.review,
                escalated=s.escalated,
                renewal_pending_info=s.renewal_pending_info,
            )
            # Keep answering claims dated up to the event until the current period ends.
            s.periods = s.periods[: s.period_index + 1]
            self._close_review()
            s.renewal_pending_info = None
            self._move("discontinued", reason)
            self._notify("discontinued", payload)
        elif s.status in ("received", "pended", "in_review", "appealed", "denied"):
            self._close_review()
            self._move("discontinued", reason)
            self._notify("discontinued", payload)
            self._finish(s.last_reason)

    def _finish(self, reason: str) -> None:
        """The case has ended: its run ends now, or after its claims run-out."""
        s = self.s
        s.last_reason = reason or s.last_reason
        self._log("closed", f"case closed: {s.status} ({reason})")
        if self._begin_run_out():
            self._changed()
            return
        self._end_run()

    def _end_run(self) -> None:
        self.finished = True
        self._changed()
        self._emit(EndRun())

    # ------------------------------------------------------------------ reviews

    def review_terms(self, inp: ReviewDecisionInput) -> ReviewDecisionResult | TermsAsk | None:
        """Before a reviewer's decision: a refusal, the track terms to ask for, or None."""
        s = self.s
        review = s.review
        if review is None:
            return ReviewDecisionResult(
                accepted=False, status=s.status, reason=f"no review is open: the case is {s.status}"
            )
        if review.exclude_reviewer and review.exclude_reviewer == inp.reviewer_id:
            # The appeal rule compares subjects exactly: the API's reviewer is the caller's
            # credential, so no spelling of a name makes the denying reviewer another one.
            return ReviewDecisionResult(
                accepted=False,
                status=s.status,
                review_kind=review.kind,
                policy_ref=REF_CLOCKS,
                reason="the appeal is decided by a reviewer other than the one who denied",
            )
        if review.kind == "renewal" or inp.determination != "approve" or self._engine_terms(inp):
            return None
        decision = s.decision
        track = inp.track or (decision.track if decision else None) or s.request.therapy.setting
        if track is None:
            return None
        return TermsAsk(
            track=track,
            request=s.request,
            as_of=self.today,
            prior_cycles=s.prior_cycles,
            policy_ref=s.policy_ref,
        )

    def review_terms_problems(self, inp: ReviewDecisionInput) -> list[dict[str, str]]:
        """An approval's limited terms checked against the engine's grant, when the reviewer
        names no other track (the update's validator; a named track is checked once its
        terms are known)."""
        grant = self._engine_terms(inp)
        if inp.determination != "approve" or grant is None or self.s.review is None:
            return []
        try:
            limited_terms(grant[0], inp)
        except InvalidReview as err:
            return err.problems
        return []

    def _engine_terms(self, inp: ReviewDecisionInput) -> tuple[Authorization, TrackTerms] | None:
        """The engine's period, when the reviewer names no other track."""
        decision = self.s.decision
        if inp.track is None and decision is not None and decision.authorization and self.s.terms:
            return decision.authorization, self.s.terms
        return None

    def decide_review(
        self,
        inp: ReviewDecisionInput,
        granted: tuple[str, Authorization, TrackTerms] | None = None,
    ) -> tuple[ReviewDecisionResult, list[Effect]]:
        """A reviewer decides the open review: initial, appeal (another reviewer) or renewal.

        ``granted``: the terms of the track asked for (``review_terms``), if any.
        """
        self._begin(inp.reviewer_id)
        s = self.s
        refused = self.review_terms(inp)
        if isinstance(refused, ReviewDecisionResult):
            return refused, self._done()
        review = s.review
        assert review is not None
        if review.kind == "renewal":
            return self._decide_renewal_review(review, inp)
        kind = "appeal" if review.kind == "appeal" else "review"
        reasons = [
            Reason(
                code=f"reviewer_{inp.determination}",
                policy_ref=REF_CRITERIA,
                text=inp.rationale or f"reviewer {inp.determination}",
            )
        ]
        problems = review_input_problems(inp)
        if problems:
            raise InvalidReview(problems)
        grant: tuple[Authorization, TrackTerms] | None = None
        if inp.determination == "approve":
            grant = self._engine_terms(inp)
            track = None
            if grant is None and granted is not None:
                track, grant = granted[0], (granted[1], granted[2])
            if grant is None:
                return ReviewDecisionResult(
                    accepted=False,
                    status=s.status,
                    review_kind=review.kind,
                    reason="no track to approve on: name one (track)",
                ), self._done()
            # Before anything changes: terms longer or larger than the policy's are refused.
            grant = limited_terms(grant[0], inp), grant[1]
            s.track = track or s.track
        missing = list(inp.missing_facts) or list(s.decision.missing_facts if s.decision else [])
        row_reasons = None
        if inp.determination == "pend":
            asked = ", ".join(missing) or "information"
            row_reasons = [
                {
                    "code": "reviewer_pend",
                    "policy_ref": REF_CRITERIA,
                    "text": f"the reviewer asks for: {asked}",
                }
            ]
        self._record(
            kind,
            inp.determination,
            False,
            reviewer=inp.reviewer_id,
            rationale=inp.rationale,
            decision=s.decision,
            trace_from_key=s.decision_key,
            granted=grant[0] if grant is not None else None,
            reasons=row_reasons,
        )
        result = ReviewDecisionResult(
            accepted=True,
            status=s.status,
            reason=f"{review.kind} review decided: {inp.determination}",
            determination=inp.determination,
            review_kind=review.kind,
        )
        if grant is not None:
            auth, s.terms = grant
            self._grant(auth, s.decision if not inp.track else None, reasons)
            result.period_start, result.period_end = auth.start, auth.end
            result.authorized_units = auth.authorized_units
        elif inp.determination == "deny":
            base = s.decision.reasons if s.decision else []
            self._deny(inp.reviewer_id, [*reasons, *base], inp.rationale)
        else:
            self._pend(missing, reasons)
            result.missing_facts = missing
        result.status = s.status
        return result, self._done()

    def _decide_renewal_review(
        self, review: PendingReview, inp: ReviewDecisionInput
    ) -> tuple[ReviewDecisionResult, list[Effect]]:
        s = self.s
        evaluation = (
            RenewalDecision.model_validate(review.renewal_decision)
            if review.renewal_decision
            else None
        )
        if inp.determination == "approve" and (evaluation is None or not evaluation.authorization):
            return ReviewDecisionResult(
                accepted=False,
                status=s.status,
                review_kind="renewal",
                reason="the renewal has no terms to approve",
            ), self._done()
        key = self._next_decision_key("renewal")
        ref = evaluation.policy if evaluation else (s.decision.policy if s.decision else None)
        self._emit(
            RecordDecision(
                decision_key=key,
                kind="renewal",
                determination=inp.determination,
                automated=False,
                decided_at=self.now,
                actor=self.actor,
                reviewer_id=inp.reviewer_id,
                rationale=inp.rationale,
                trace_from_key=review.trace_key,
                policy_id=ref.id if ref else "unknown",
                policy_version=ref.version if ref else "unknown",
            )
        )
        if inp.determination == "approve":
            assert evaluation is not None and evaluation.authorization is not None
            s.request = merge_facts(s.request, review.renewal_facts, recorded=True)
            self._add_renewal_period(evaluation.authorization, inp.reviewer_id, evaluation.policy)
        elif inp.determination == "deny":
            self._close_review()
            self._log(
                "renewal_denied",
                f"renewal denied by the reviewer: {inp.rationale}",
                REF_RENEWAL,
                inp.reviewer_id,
            )
            self._notify(
                "renewal_refused",
                {
                    "reasons": [
                        {"code": "reviewer_deny", "policy_ref": REF_RENEWAL, "text": inp.rationale}
                    ],
                    "reviewer_id": inp.reviewer_id,
                },
            )
        else:
            self._close_review()
            s.renewal_pending_info = review.renewal_facts
            self._notify("pend", {"missing_facts": s.missing_facts, "reasons": []})
        self._changed()
        return ReviewDecisionResult(
            accepted=True,
            status=s.status,
            reason=f"renewal review decided: {inp.determination}",
            determination=inp.determination,
            review_kind="renewal",
        ), self._done()

    # ------------------------------------------------------------------ renewals

    def renewal(self, facts: dict[str, Any], actor: str | None) -> RenewalResult | RenewalAsk:
        """Section IV: a refusal now, or the renewal to evaluate (the changed facts merged)."""
        s = self.s
        period = s.period
        if not s.live or period is None or self.finished:
            return RenewalResult(
                accepted=False,
                status=s.status,
                policy_ref=REF_RENEWAL,
                reason=f"a renewal is taken while the case is active; the case is {s.status}",
            )
        if s.period_index < len(s.periods) - 1:
            nxt = s.periods[s.period_index + 1]
            return RenewalResult(
                accepted=False,
                status=s.status,
                policy_ref=REF_RENEWAL,
                reason=f"already renewed: the next period runs {nxt.start} → {nxt.end}",
                period=self._period_views()[s.period_index + 1],
            )
        if s.review is not None and s.review.kind == "renewal":
            return RenewalResult(
                accepted=False,
                status=s.status,
                policy_ref=REF_RENEWAL,
                reason="a renewal is already in clinical review",
            )
        merged = merge_facts(s.request, facts, recorded=True)
        return RenewalAsk(
            decision_key=self._next_decision_key("renewal"),
            renewal=RenewalInput(
                request=merged,
                track=s.track or "",
                path=s.path,
                renewals_used=s.renewals_used,
                last_cycle=s.periods[-1].last_cycle,  # Section I: the numbering continues
                period_start=period.start,
                period_end=period.end,
                as_of=self.today,
                events=s.clinical_events,  # the engine reads those of the current period
                policy_id=s.decision.policy.id if s.decision else None,
                allow_automatic_denial=s.request.line_of_business
                in self.config.auto_deny_lines_of_business,
            ),
            facts=facts,
            actor=actor,
            decided_at=self.now,
            policy_ref=s.policy_ref,
        )

    def on_renewal_decision(
        self, ask: RenewalAsk, evaluation: RenewalDecision
    ) -> tuple[RenewalResult, list[Effect]]:
        """Act on the engine's renewal decision, already recorded under ``ask.decision_key``."""
        self._begin(ask.actor)
        s = self.s
        period = s.period
        assert period is not None
        det = evaluation.determination
        self._log(
            "renewal_request",
            f"renewal requested: {det} — {first_reason(evaluation.reasons, det)}",
            REF_RENEWAL,
            ask.actor,
        )
        view: PeriodView | None = None
        if det == "approve" and evaluation.authorization is not None:
            s.request = ask.renewal.request
            view = self._add_renewal_period(evaluation.authorization, ask.actor, evaluation.policy)
            accepted, reason = True, "renewal approved"
        elif det == "review" or (det == "deny" and not evaluation.automated):
            # No adverse decision is automated: a deny is a reviewer's recommendation.
            self._open_review(
                "renewal",
                det,
                evaluation.reasons,
                renewal=evaluation,
                renewal_facts=ask.facts,
                trace_key=ask.decision_key,
            )
            accepted, reason = True, f"renewal sent to clinical review (recommendation: {det})"
        elif det == "pend":
            s.renewal_pending_info = ask.facts
            s.missing_facts = list(evaluation.missing_facts)
            self._notify(
                "pend",
                {
                    "missing_facts": evaluation.missing_facts,
                    "deadline": period.end.isoformat(),
                    "reasons": reason_payloads(evaluation.reasons),
                },
            )
            accepted = True
            reason = "renewal pended: " + (
                ", ".join(evaluation.missing_facts) or first_reason(evaluation.reasons, "facts")
            )
        else:
            self._notify(
                "renewal_refused",
                {
                    "reasons": reason_payloads(evaluation.reasons),
                    "window_opens": evaluation.window_opens.isoformat()
                    if evaluation.window_opens
                    else None,
                },
            )
            accepted = False
            reason = first_reason(evaluation.reasons, f"renewal refused: {det}")
            if det == "too_early" and evaluation.window_opens is not None:
                reason = f"too early: the renewal window opens on {evaluation.window_opens}"
        s.last_reason = reason
        self._changed()
        return RenewalResult(
            accepted=accepted,
            status=s.status,
            reason=reason,
            policy_ref=REF_RENEWAL,
            determination=det,
            window_opens=evaluation.window_opens,
            period=view,
            reasons=evaluation.reasons,
        ), self._done()

    def _add_renewal_period(
        self, auth: Authorization, actor: str | None, policy: PolicyRef | None = None
    ) -> PeriodView:
        s = self.s
        if policy is not None:  # the new period runs under the version it was renewed under
            s.policy_ref = f"{policy.id}@{policy.version}"
        s.periods.append(PeriodState.granted(auth, "renewal"))
        s.renewals_used += 1
        s.max_renewals = auth.max_renewals
        s.renewal_pending_info = None
        s.missing_facts = []
        self._close_review()
        self._emit(SearchAttributes(renewals_used=s.renewals_used, period_end=s.midnight(auth.end)))
        self._log(
            "renewed",
            f"renewal {s.renewals_used} approved: {auth.start} → {auth.end}, cycles "
            f"{auth.first_cycle}–{auth.first_cycle + auth.cycles - 1}",
            REF_RENEWAL,
            actor,
        )
        self._move("renewed", f"renewal {s.renewals_used} approved")
        self._notify(
            "renewal_approved",
            {
                "track": s.track,
                "period_start": auth.start.isoformat(),
                "period_end": auth.end.isoformat(),
                "cycles": auth.cycles,
                "first_cycle": auth.first_cycle,
                "authorized_units": auth.authorized_units,
                "max_units_per_42_days": auth.max_units_per_42_days,
                "renewals_left": max(0, s.allowed_renewals - s.renewals_used),
                "policy_ref": REF_RENEWAL,
            },
            n=s.renewals_used,
        )
        self._emit(ContinueAsNew())
        return self._period_views()[-1]

    # ------------------------------------------------------------------ other actions

    def extend_period(self, inp: ExtendPeriodInput) -> tuple[ExtendPeriodResult, list[Effect]]:
        """A reviewer extends the current period when treatment was paused (X12 extension)."""
        self._begin(inp.reviewer_id)
        s = self.s
        period = s.period
        if not s.live or period is None:
            return ExtendPeriodResult(
                accepted=False,
                status=s.status,
                reason=f"only an active period can be extended; the case is {s.status}",
            ), self._done()
        delta = timedelta(days=inp.days)
        period.end += delta
        period.extended_days += inp.days
        for later in s.periods[s.period_index + 1 :]:
            later.start += delta
            later.end += delta
        self._record(
            "extension", "approve", False, reviewer=inp.reviewer_id, rationale=inp.rationale
        )
        self._emit(self._period_end_attribute())
        self._log(
            "extended",
            f"period {s.period_index + 1} extended by {inp.days} d to {period.end}",
            REF_PERIOD,
            inp.reviewer_id,
        )
        self._notify(
            "period_extended",
            {
                "days": inp.days,
                "period_end": period.end.isoformat(),
                "rationale": inp.rationale,
                "reviewer_id": inp.reviewer_id,
            },
            n=len([e for e in s.log if e.kind == "extended"]),
        )
        self._reconcile_window()
        self._changed()
        return ExtendPeriodResult(
            accepted=True, status=s.status, reason="period extended", period_end=period.end
        ), self._done()

    def extension_refusal(self) -> str | None:
        """Why the open review's decision clock cannot be extended now, or None (once per
        review, and only while a review is open: domain/review_extension.py)."""
        s = self.s
        review = s.review
        if review is None or self.finished:
            return f"no review is open: the case is {s.status}"
        if review.extended_days or review.label in s.extended_reviews:
            return f"the {review.kind} review's decision clock was already extended once"
        return None

    def extend_review(self, inp: ExtendReviewInput) -> tuple[ExtendReviewResult, list[Effect]]:
        """A reviewer extends the open review's decision clock by ``days`` (CMS-0057-F).

        The decision clock and its escalation move with it (an escalated review whose new
        escalation time is still ahead is no longer escalated); the extension is a decision
        row of kind ``review_extension`` and a notice to the prescriber."""
        self._begin(inp.reviewer_id)
        s = self.s
        refusal = self.extension_refusal()
        review = s.review
        if refusal is None and review is not None:
            try:
                due = extend_review_clock(review.due_at, inp.days, already_extended=False)
            except ExtensionRefused as err:
                refusal = str(err)
        if refusal is not None or review is None:
            return ExtendReviewResult(
                accepted=False,
                status=s.status,
                reason=refusal or "no review is open",
                policy_ref=REF_CLOCKS,
                review_kind=review.kind if review else None,
            ), self._done()
        label = review.label or review.kind
        review.due_at = due
        review.extended_days = inp.days
        review.escalate_at = max(self.now, due - timedelta(hours=self.config.escalate_before_hours))
        review.overdue = False
        if review.escalate_at > self.now:
            self._set_escalated(False)
        s.extended_reviews.append(label)
        self._record(
            REVIEW_EXTENSION,
            EXTENDED,
            False,
            reviewer=inp.reviewer_id,
            rationale=inp.reason,
            extends_review=label,
            due_at=due,
        )
        self._log(
            "review_extended",
            f"{review.kind} review decision clock extended by {inp.days} d to {due.isoformat()}",
            REF_CLOCKS,
            inp.reviewer_id,
        )
        self._notify(
            "review_extended",
            {
                "stage": review.kind,
                "days": inp.days,
                "due_by": due.isoformat(),
                "reason": inp.reason,
                "reviewer_id": inp.reviewer_id,
                "policy_ref": REF_CLOCKS,
            },
            n=len(s.extended_reviews),
        )
        self._changed()
        return ExtendReviewResult(
            accepted=True,
            status=s.status,
            reason=f"{review.kind} review's decision clock extended by {inp.days} days",
            policy_ref=REF_CLOCKS,
            review_kind=review.kind,
            days=inp.days,
            due_at=due,
        ), self._done()

    def appeal(self, inp: AppealInput) -> tuple[AppealResult, list[Effect]]:
        """An appeal of a denial, inside the window by line of business; another reviewer."""
        self._begin(inp.requested_by)
        s = self.s
        if s.status != "denied" or s.appeal_deadline is None:
            return AppealResult(
                accepted=False,
                status=s.status,
                reason=f"only a denied case with an open appeal window can be appealed; "
                f"the case is {s.status}",
            ), self._done()
        deadline = s.appeal_deadline
        s.appeal_deadline = None
        s.appeals_used += 1
        self._log(
            "appeal",
            f"appeal received: {inp.reason or 'no reason given'}",
            REF_CLOCKS,
            inp.requested_by,
        )
        self._move("appealed", inp.reason or "appeal received")
        clock = self.config.decision_clock(s.request.line_of_business, s.request.urgency)
        self._notify(
            "appeal_received", {"reason": inp.reason, "due_by": (self.now + clock).isoformat()}
        )
        reasons = s.decision.reasons if s.decision else []
        self._open_review("appeal", "deny", reasons, exclude=s.denied_by)
        return AppealResult(
            accepted=True,
            status=s.status,
            reason="appeal taken; another reviewer decides",
            appeal_deadline=deadline,
        ), self._done()

    def withdraw(self, inp: WithdrawInput) -> tuple[WithdrawResult, list[Effect]]:
        """The requester withdraws the case; the withdrawal is a decision row naming them."""
        self._begin(inp.requested_by)
        s = self.s
        if s.status not in WITHDRAWABLE or self.finished:
            return WithdrawResult(
                accepted=False,
                status=s.status,
                reason=f"the case is {s.status}: nothing to withdraw",
            ), self._done()
        self._record("withdrawal", "withdrawn", False, rationale=inp.reason or None)
        self._log("withdrawn", inp.reason or "withdrawn by the requester", "", inp.requested_by)
        self._close_review()
        if s.periods:
            s.withdrawn_on = self.today  # claims run-out: dates of service before it
        self._move("withdrawn", inp.reason or "withdrawn by the requester")
        self._notify("withdrawn", {"date": self.today.isoformat(), "reason": inp.reason})
        self._finish(s.last_reason)
        return WithdrawResult(accepted=True, status=s.status, reason="case withdrawn"), self._done()

    # ------------------------------------------------------------------ claims

    def claim_problem(self, message: ClaimLineMessage) -> str | None:
        """Why the case takes no claim line now (the update's validator), or None."""
        s = self.s
        if message.member_id.strip() != s.request.member.member_id.strip():
            return "the claim is for another member than this authorization's"
        if self.finished:  # the run is ending: nothing more is adjudicated
            until = s.run_out_until
            return f"the case has ended ({s.status})" + (
                f": its claims run-out ended {until}" if until else ""
            )
        return None

    def timely_filing_days(self) -> int | None:
        """The case's timely-filing limit: a setting's, else its terms' (the policy data's);
        None before the case has terms (the ledger then reads the policy data itself)."""
        s = self.s
        lob = s.request.line_of_business
        if lob in self.config.timely_filing_days or s.terms is not None:
            return self.config.timely_filing(lob, s.terms.timely_filing_days if s.terms else None)
        return None

    def earlier_answer(self, line: ClaimLine) -> tuple[ClaimAnswer | None, bool]:
        """The first answer to this very line, if it came before; and whether its claim
        id + line was seen at all (another content under it is CARC 16, not counted)."""
        seen = self.s.claim_record(claim_key(line))
        if seen is None:
            return None, False
        if seen.fingerprint == claim_fingerprint(line):
            return seen.answer, True
        return None, True

    def on_claim_answer(
        self, line: ClaimLine, answer: ClaimAnswer, *, repeated_id: bool
    ) -> list[Effect]:
        """The ledger's answer to a line (Section II): units counted, maybe a cycle started.

        ``repeated_id``: another content under a known claim id + line (CARC 16): kept out.
        """
        self._begin()
        s = self.s
        if repeated_id:
            return self._done()
        s.claims[claim_key(line)] = ClaimRecord(
            fingerprint=claim_fingerprint(line), answer=answer, date_of_service=line.date_of_service
        )
        if answer.allowed_units:
            s.units_paid += answer.allowed_units
            for period in s.periods:
                if period.covers(line.date_of_service):
                    period.units_paid += answer.allowed_units
                    break
            if not line.reversal and answer.allowed_units > 0:
                self._claim_starts_cycle(line.date_of_service)
        # The ledger writes units_paid to the case's record in the line's own transaction:
        # no projection per line (a cycle it starts projects).
        return self._done()

    # ------------------------------------------------------------------ cycles

    def _claim_starts_cycle(self, day: date) -> None:
        """A cycle starts at the first paid claim in it (DESIGN.md; Section I cycle lengths).

        Cycles are numbered as the periods grant them (Section I, prior therapy): the first
        is its period's first cycle, the next one follows the last started, never before
        the first cycle of the claim's period nor past its last.
        """
        s = self.s
        period = next((p for p in s.periods if p.covers(day)), None)
        if period is None:
            return
        if not s.cycles:
            self._start_cycle(period.first_cycle, day, "claim")
            return
        last = s.cycles[-1]
        if last.cycle_days and day >= last.next_start and last.cycle + 1 <= period.last_cycle:
            self._start_cycle(max(last.cycle + 1, period.first_cycle), day, "claim")

    def _start_cycle(self, number: int, day: date, by: Literal["claim", "event"]) -> None:
        s = self.s
        if any(c.cycle == number for c in s.cycles):
            return
        terms = s.terms
        first = s.periods[0].first_cycle if s.periods else 1
        if number < first:
            self._log(
                "cycle_refused",
                f"cycle {number} is among the {first - 1} prior cycles counted at the grant",
                REF_PERIOD,
            )
            return
        if terms is not None and number > terms.total_cycles:
            self._log(
                "cycle_refused",
                f"cycle {number} is beyond the track's {terms.total_cycles}",
                REF_PERIOD,
            )
            return
        plan = next((c for c in terms.cycles if c.cycle == number), None) if terms else None
        s.cycles.append(
            CycleState(
                cycle=number,
                start=day,
                phase=plan.phase if plan else "",
                cycle_days=plan.cycle_days if plan else 0,
                started_by=by,
            )
        )
        s.cycles.sort(key=lambda c: c.cycle)
        self._log("cycle_started", f"cycle {number} started {day} ({by})", REF_PERIOD)
        self._changed()

    # ------------------------------------------------------------------ clinical events

    def event_problem(self, event: ClinicalEvent) -> EventProblem | None:
        """Why the case cannot take ``event`` now (CONTRACT.md, Clinical event), or None."""
        return event_problem(self.s, event, self.today, self.finished)

    def duplicate_event(self, event: ClinicalEvent) -> ClinicalEventResult | None:
        """A repeated event id is answered and ignored; a new one is marked seen at once."""
        s = self.s
        if event.event_id in s.events_seen:
            return ClinicalEventResult(
                accepted=True,
                duplicate=True,
                status=s.status,
                event_id=event.event_id,
                reason="repeated event id: ignored",
                policy_ref=REF_EVENTS,
            )
        s.events_seen.append(event.event_id)
        return None

    def record_event(
        self, message: ClinicalEventMessage
    ) -> tuple[ClinicalEventResult, list[Effect]]:
        """A clinical event, already marked seen (``duplicate_event``): checked, kept, applied.

        The case keeps the event; its row and the case's log name the sender.
        """
        self._begin(message.sent_by)
        s = self.s
        event = message.clinical_event()
        problem = self.event_problem(event)
        if problem is not None:  # e.g. a retraction raced by another of the same event
            s.events_seen.remove(event.event_id)
            return ClinicalEventResult(
                accepted=False,
                status=s.status,
                event_id=event.event_id,
                reason=problem.message,
                policy_ref=REF_EVENTS,
            ), self._done()
        s.clinical_events.append(event)
        self._apply_event(event, message.sent_by)
        return ClinicalEventResult(
            accepted=True,
            status=s.status,
            event_id=event.event_id,
            reason=f"{event.type} event recorded",
            policy_ref=REF_EVENTS,
        ), self._done()

    def signalled_event(
        self, message: ClinicalEventMessage
    ) -> tuple[EventProblem | None, list[Effect]]:
        """The event as the old ``clinical_event`` signal sends it: repeats ignored, an
        event the update would refuse dropped (returned, for the workflow to log)."""
        self._begin(message.sent_by)
        s = self.s
        event = message.clinical_event()
        if event.event_id in s.events_seen:
            return None, self._done()
        problem = self.event_problem(event)
        if problem is not None:
            return problem, self._done()
        s.events_seen.append(event.event_id)
        s.clinical_events.append(event)
        self._apply_event(event, message.sent_by)
        return None, self._done()

    def _apply_event(self, event: ClinicalEvent, sent_by: str | None) -> None:
        """Record ``event`` (already in the case's events) and act on it."""
        s = self.s
        self._emit(RecordClinicalEvent(event=event, received_at=self.now, sent_by=sent_by))
        self._log("clinical_event", describe_event(event), REF_RENEWAL, sent_by)
        if event.type == "cycle_started" and event.cycle_started is not None:
            self._start_cycle(event.cycle_started.cycle, event.date, "event")
        elif event.type == "death":
            s.death_date = event.date
            self._discontinue(event)
        elif event.type == "discontinued":
            s.discontinued_date = event.date
            self._discontinue(event)
        elif event.type == "retraction" and event.retraction is not None:
            self._retract(event)
        self._changed()

    def _retract(self, retraction: ClinicalEvent) -> None:
        s = self.s
        assert retraction.retraction is not None
        target = recorded_event(s, retraction.retraction.retracts)
        if target is None:
            return
        counting = effective_events(s.clinical_events)
        deaths = [e.date for e in counting if e.type == "death"]
        stops = [e.date for e in counting if e.type == "discontinued"]
        s.death_date = deaths[-1] if deaths else None
        s.discontinued_date = stops[-1] if stops else None
        self._log(
            "retracted",
            f"{target.type} event {target.event_id} of {target.date} retracted as entered in "
            f"error: {retraction.retraction.reason}",
            REF_EVENTS,
        )
        if (
            target.type not in DISCONTINUING
            or s.status != "discontinued"
            or self.finished
            or s.run_out_until is not None
        ):
            return
        still = [e for e in counting if e.type in DISCONTINUING]
        if still:
            if s.discontinued_from is not None:
                s.discontinued_from.event_id = still[0].event_id
            self._log(
                "still_discontinued",
                f"the case stays discontinued: {still[0].type} event {still[0].event_id} "
                "still stands",
                REF_EVENTS,
            )
            return
        self._reinstate(target)

    def _reinstate(self, target: ClinicalEvent) -> None:
        """The discontinuing event was entered in error: back to the status the case had."""
        s = self.s
        before = s.discontinued_from
        status = before.status if before is not None else self._status_before_discontinuation()
        s.discontinued_from = None
        if before is not None:
            s.periods = [*s.periods[: s.period_index + 1], *before.later_periods]
            s.review = before.review
            s.renewal_pending_info = before.renewal_pending_info
            if before.escalated:
                self._set_escalated(True)
        if s.periods:
            self._emit(self._period_end_attribute())
        period = s.period
        self._log(
            "reinstated",
            f"{target.type} reported in error: the case is {status} again"
            + (f" (period {s.period_index + 1} ends {period.end})" if period else ""),
            REF_EVENTS,
        )
        self._move("reinstated", f"{target.type} event retracted as entered in error", status)
        self._notify(
            "reinstated",
            {
                "retracted": target.type,
                "status": status,
                "period_end": period.end.isoformat() if period else None,
                "policy_ref": REF_EVENTS,
            },
        )

    def _status_before_discontinuation(self) -> str:
        """For a case discontinued before it kept what it set aside: its status just before."""
        changes = self.s.status_changes
        for i in range(len(changes) - 1, 0, -1):
            if changes[i].status == "discontinued":
                previous = changes[i - 1].status
                return previous if previous in LIVE_STATUSES else "active"
        return "active"

    # ------------------------------------------------------------------ deadlines

    def on_due(self) -> list[Effect]:
        """Handle every deadline due by now, earliest first, from the one deadline list."""
        self._begin()
        for _ in range(MAX_DUE):
            if self.finished:
                break
            deadline = clocks.due(self.s, self.config, self.now)
            if deadline is None:
                break
            self._handle(deadline)
        else:
            raise RuntimeError("deadlines did not settle")  # a deadline that stays due: a bug
        if not self.finished and self.s.run_out_until is None and self.s.live:
            self._reconcile_window()
        return self._done()

    def _handle(self, deadline: clocks.Deadline) -> None:
        s = self.s
        kind = deadline.kind
        if kind == "run_out_end":
            self._log(
                "run_out_ended",
                f"claims run-out ended ({s.run_out_until}): no more claims are taken",
                REF_RUN_OUT,
            )
            self._end_run()
        elif kind == "pend_deadline":
            s.pend_deadline = None
            self._log("pend_deadline", "facts not received by the deadline: clinical review")
            self._open_review("initial", "pend", s.decision.reasons if s.decision else [])
        elif kind == "escalation":
            self._escalate()
        elif kind == "decision_clock":
            assert s.review is not None
            s.review.overdue = True
            self._log("clock_ran_out", f"{s.review.kind} review decision clock ran out", REF_CLOCKS)
            self._changed()
        elif kind == "appeal_window":
            s.appeal_deadline = None
            self._finish("appeal window closed unused; the denial stands")
        elif kind == "period_end":
            self._end_period()
        elif kind == "renewal_window":
            self._open_window()
        elif kind == "renewal_reminder":
            period = s.period
            assert period is not None
            left = (period.end - self.today).days + 1
            self._notify(
                "renewal_reminder",
                {"period_end": period.end.isoformat(), "days_left": left},
                n=deadline.n,
            )
        elif kind == "cycle_boundary":
            last = s.cycles[-1]
            s.boundaries_logged.append(last.cycle)
            self._log(
                "cycle_boundary",
                f"cycle {last.cycle} ({last.phase}, {last.cycle_days} d) ended on "
                f"{last.next_start - timedelta(days=1)}",
                REF_PERIOD,
            )

    def _escalate(self) -> None:
        """Decision clocks: escalate before the clock runs out (DESIGN.md, Case statuses)."""
        s = self.s
        review = s.review
        assert review is not None
        self._set_escalated(True)
        left = max(0, int((review.due_at - self.now).total_seconds() // 3600))
        self._log("escalated", f"{review.kind} review escalated, {left} h left", REF_CLOCKS)
        self._notify(
            "escalation",
            {
                "stage": review.kind,
                "due_by": review.due_at.isoformat(),
                "hours_left": left,
                "urgency": s.request.urgency,
            },
        )
        self._changed()

    def _open_window(self) -> None:
        """Section IV.2: the renewal window opens at end - N days."""
        s = self.s
        period = s.period
        assert period is not None
        opens = s.window_opens(period)
        self._move("window_opened", f"renewal window open from {opens}")
        self._notify(
            "renewal_window_open",
            {
                "period_end": period.end.isoformat(),
                "window_opens": opens.isoformat() if opens else None,
                "renewals_used": s.renewals_used,
                "max_renewals": s.allowed_renewals,
            },
        )

    def _reconcile_window(self) -> None:
        """An open window whose opening moved later (a period extended) closes again."""
        s = self.s
        period = s.period
        if s.status != "renewal_window" or period is None:
            return
        if s.period_index != len(s.periods) - 1:
            return
        opens = s.window_opens(period)
        if opens is None or self.now < s.midnight(opens):
            self._move("window_closed", "renewal window not open (period extended)")

    def _end_period(self) -> None:
        """The period's last day is over: the next period, or the end of the case."""
        s = self.s
        period = s.period
        assert period is not None
        if s.review is not None and s.review.kind == "renewal":
            self._log("review_closed", "renewal review closed: the period ended")
            self._close_review()
        s.renewal_pending_info = None
        if s.status == "discontinued":
            self._finish("period ended after discontinuation")
            return
        if s.period_index + 1 < len(s.periods):
            s.period_index += 1
            nxt = s.periods[s.period_index]
            self._log(
                "period_started",
                f"period {s.period_index + 1} ({nxt.kind}) {nxt.start} → {nxt.end}, "
                f"cycles {nxt.first_cycle}–{nxt.last_cycle}",
                REF_PERIOD,
            )
            self._move("period_started", "renewed period started")
            return
        payload = {
            "period_end": period.end.isoformat(),
            "cycles_total": s.cycles_started,
            "last_cycle": s.periods[-1].last_cycle,
        }
        if s.renewal_possible():
            self._move("expired", "the period ended without a renewal")
            self._notify("expiry", payload)
        else:
            self._move("completed", "the last allowed period ended")
            self._notify("completed", payload)
        self._finish(s.last_reason)

    # ------------------------------------------------------------------ claims run-out

    def _begin_run_out(self) -> bool:
        """The case has just ended: True when it stays open for its claims run-out
        (POLICY.md, Claims run-out).

        Sets the run-out's last day and ``AuthRunOutUntil`` for every case that ended
        with a payable day, also when that last day has already passed (the run then
        ends at once, and the attribute says when its claims stopped).
        """
        s = self.s
        limit = self.timely_filing_days()
        until = s.run_out_end(limit) if limit is not None else None
        if until is None:
            return False
        s.run_out_until = until
        self._emit(SearchAttributes(run_out_until=until))
        through = s.claims_through()
        if self.today > until:
            self._log("run_out", f"no claims run-out: its last day {until} has passed", REF_RUN_OUT)
            return False
        self._slim_for_run_out()
        self._log(
            "run_out",
            f"claims run-out until {until}: claims for dates of service through {through} "
            f"are adjudicated within {limit} days of service",
            REF_RUN_OUT,
        )
        return True

    def _slim_for_run_out(self) -> None:
        """Drop what only a live case reads: claims need periods, dates, terms and answers."""
        s = self.s
        s.archive_claims()  # the answers, as text: most of what an ended case holds
        s.clinical_events = []  # read by renewals only (events_seen keeps repeats out)
        # Kept to reinstate a case whose discontinuation is retracted: an ended case
        # takes no retraction any more (event_checks.py).
        s.discontinued_from = None
        if s.decision is not None:  # the dosing plan is in the decision's audit row
            s.decision = s.decision.model_copy(update={"dosing": None})

    # ------------------------------------------------------------------ views

    def awaiting(self) -> str | None:
        s = self.s
        if self.finished:
            return None
        if s.status == "pended":
            return "facts: " + ", ".join(s.missing_facts)
        if s.review is not None:
            return f"{s.review.kind} review decision"
        if s.status == "denied":
            return "appeal (or the end of the appeal window)"
        if s.renewal_pending_info is not None:
            return "facts for the pended renewal"
        nxt = self.next_deadline()
        return nxt.label if nxt else None

    def status_view(self) -> CaseStatusView:
        s = self.s
        period = s.period
        return CaseStatusView(
            case_id=s.case_id,
            request_id=s.request.request_id,
            status=s.status,
            track=s.track,
            path=s.path,
            determination=s.determination,
            line_of_business=s.request.line_of_business,
            urgency=s.request.urgency,
            awaiting=self.awaiting(),
            missing_facts=s.missing_facts,
            pend_deadline=s.pend_deadline,
            review_kind=s.review.kind if s.review else None,
            review_due=s.review.due_at if s.review else None,
            review_extended_days=s.review.extended_days if s.review else 0,
            escalated=s.escalated,
            appeal_deadline=s.appeal_deadline,
            period_index=s.period_index if period else None,
            period_start=period.start if period else None,
            period_end=period.end if period else None,
            renewal_window_opens=s.window_opens(period) if period else None,
            renewals_used=s.renewals_used,
            max_renewals=s.allowed_renewals,
            cycles_started=s.cycles_started,
            total_cycles=s.terms.total_cycles if s.terms else 0,
            units_paid=s.units_paid,
            units_authorized=s.units_authorized,
            last_reason=s.last_reason,
            run=s.runs,
            run_out_until=s.run_out_until,
            run_out_service_through=s.claims_through() if s.run_out_until else None,
            policy_ref=s.policy_ref,
        )

    def _period_views(self) -> list[PeriodView]:
        return [
            PeriodView(
                index=i,
                start=p.start,
                end=p.end,
                kind=p.kind,
                cycles=p.cycles,
                first_cycle=p.first_cycle,
                authorized_units=p.authorized_units,
                units_paid=p.units_paid,
                extended_days=p.extended_days,
            )
            for i, p in enumerate(self.s.periods)
        ]

    def periods_view(self) -> PeriodsView:
        return PeriodsView(
            periods=self._period_views(), current=self.s.period_index if self.s.periods else None
        )

    def cycles_view(self) -> CyclesView:
        s = self.s
        return CyclesView(
            cycles=[
                CycleView(
                    cycle=c.cycle,
                    start=c.start,
                    phase=c.phase,
                    cycle_days=c.cycle_days,
                    started_by=c.started_by,
                )
                for c in s.cycles
            ],
            total_cycles=s.terms.total_cycles if s.terms else 0,
            prior_cycles=s.prior_cycles,
        )

    def units_view(self) -> UnitsView:
        s = self.s
        return UnitsView(
            units_paid=s.units_paid,
            units_authorized=s.units_authorized,
            by_period=self._period_views(),
            claims=s.claim_answers(),
        )

    def history_view(self) -> HistoryView:
        s = self.s
        return HistoryView(
            status_changes=s.status_changes, notifications=s.notifications, entries=s.log
        )
