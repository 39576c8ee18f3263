"""AuthorizationWorkflow: one case, from the request to its end (DESIGN.md, How data flows).

Orchestration only. Decisions come from the domain engine through the
evaluation activities; claims are decided by the claims ledger; every
decision is recorded, every change projected, every notice sent through the
outbox. The workflow keeps the clocks (pend deadline, decision clock and
escalation, appeal window, cycle boundaries, renewal window and reminders,
period end) and the case's state, which it carries across continue-as-new
at each renewal.

Statuses (fixed, CONTRACT.md): received -> pended | in_review | active |
denied | not_applicable; active <-> renewal_window -> active (renewed) |
expired | completed; denied -> appealed -> in_review; any live status ->
withdrawn; active -> discontinued (kept open until the period's end). A case
that ends with an approved period keeps answering claims, in its final
status, until its claims run-out has passed (workflows/run_out.py).

Who acts comes with each message (the API sets it from the caller's
credential): the reviewer of a decision, the requester of an appeal, a
renewal, facts or a withdrawal, the system that sent a claim line or a
clinical event. While a message is handled that subject is the case's actor
(``Recording._acting``): every decision row and notice it causes names it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

# The mixins are stateless code: passed through, they are imported once per
# worker instead of once per workflow run in the sandbox (a quarter of the
# worker's CPU per decision, and memory per cached case).
with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.claims_ledger import ClaimsLedger
    from activities.models import AdjudicateClaimInput, NotificationInput
    from domain.claim import ClaimAnswer, ClaimLine
    from domain.decision import Reason
    from domain.facts import fact_problems, fixed_fact_problems, merge_facts
    from domain.request import PARequest
    from infra.temporal import AUTH_PERIOD_END
    from workflows.case_clock import CaseClock
    from workflows.case_state import LIVE_STATUSES, CaseState, ClaimRecord
    from workflows.cycles import Cycles
    from workflows.deadlines import Deadlines
    from workflows.events import ClinicalEvents
    from workflows.intake import Intake
    from workflows.messages import (
        AppealInput,
        AppealResult,
        CaseInput,
        CaseResult,
        CaseStatusView,
        ClaimLineMessage,
        ClinicalEventMessage,
        ClinicalEventResult,
        CyclesView,
        CycleView,
        ExtendPeriodInput,
        ExtendPeriodResult,
        HistoryView,
        PeriodsView,
        ProvideInfoInput,
        ProvideInfoResult,
        RenewalRequestInput,
        RenewalResult,
        ReviewDecisionInput,
        ReviewDecisionResult,
        UnitsView,
        WithdrawInput,
        WithdrawResult,
    )
    from workflows.notices import Notices
    from workflows.options import RETRY, SHORT
    from workflows.policy_refs import REF_CLOCKS, REF_EVENTS, REF_PERIOD, REF_RENEWAL
    from workflows.recording import Recording
    from workflows.renewals import Renewals
    from workflows.run_out import RunOut
    from workflows.timers import Timers
    from workflows.transitions import Transitions

# workflow.patched ids: command order that changed under running cases.
PATCH_LEDGER_KEEPS_UNITS_PAID = "claim-line-without-projection"
PATCH_WITHDRAWAL_RECORDED = "withdrawal-decision-row"
# The clinical_event signal drops an event dated out of range or a bad retraction.
PATCH_CLINICAL_EVENT_CHECKED = "clinical-event-checked"

WITHDRAWABLE = frozenset(
    {"received", "pended", "in_review", "appealed", "active", "renewal_window"}
)
INFO_STATUSES = frozenset({"pended", "in_review", "appealed"})


def _fingerprint(line: ClaimLine) -> str:
    text = json.dumps(line.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _claim_key(line: ClaimLine) -> str:
    return f"{line.claim_id}:{line.line}:{'reversal' if line.reversal else 'original'}"


def _check_facts(request: PARequest, facts: dict[str, Any]) -> None:
    """A validator's refusal of facts that do not fit the request: which field and why,
    never the value (it may be PHI, and the message reaches the caller's 422)."""
    fixed = fixed_fact_problems(facts)
    if fixed:
        raise ApplicationError(
            "; ".join(f"{p['field']}: {p['message']}" for p in fixed),
            {"errors": fixed},
            type="InvalidInput",
            non_retryable=True,
        )
    try:
        merge_facts(request, facts)
    except ValidationError as exc:
        # Only the facts are judged: what the case already holds was accepted by its rules.
        # from None: pydantic's own message (which quotes the input) is no cause to send on.
        problems = fact_problems(exc, facts)
        if not problems:
            return
        raise ApplicationError(
            "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            {"errors": problems},
            type="InvalidInput",
            non_retryable=True,
        ) from None


@workflow.defn
class AuthorizationWorkflow(
    Intake,
    Transitions,
    Renewals,
    Deadlines,
    ClinicalEvents,
    Cycles,
    Recording,
    Notices,
    Timers,
    CaseClock,
    RunOut,
):
    """One prior-authorization case for Blincyto, as DESIGN.md describes it."""

    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._input = inp
        self._config = inp.config
        request = inp.request
        if inp.state is not None:
            self.s = inp.state
            self.s.runs += 1
        else:
            offset = 0.0
            if inp.config.clock_anchor is not None:
                offset = (request.received_at - inp.config.clock_anchor).total_seconds()
            self.s = CaseState(
                case_id=workflow.info().workflow_id,
                request=request,
                received_day=request.received_on,
                clock_offset_seconds=offset,
            )
        self._lock = asyncio.Lock()
        self._wake = False
        self._finished = False
        self._continue = False
        self._project_pending = False
        self._timer_task: asyncio.Task[None] | None = None
        self._armed: tuple[datetime, str] | None = None
        self._timer_fired = False
        self._outbox: list[NotificationInput] = []
        self._sender: asyncio.Task[None] | None = None
        self._actor: str | None = None

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        s = self.s
        if inp.state is None:
            self._record_status_change("received", "request received")
            self._log("received", f"request {s.request.request_id} received")
            async with self._lock:
                with self._acting(inp.submitted_by):
                    await self._intake()
        else:
            self._log("continued", f"run {s.runs} continues the case")
            self._refresh_ui()
        while True:
            async with self._lock:
                await self._process_due()
            if self._project_pending:
                await self._project()
            if self._finished:
                break
            if self._continue or self._history_is_long():
                await self._continue_as_new()
            await self._wait()
        self._disarm()
        await workflow.wait_condition(self._quiet)
        await self._project()
        return CaseResult(
            case_id=s.case_id,
            request_id=s.request.request_id,
            status=s.status,
            track=s.track,
            renewals_used=s.renewals_used,
            cycles_started=s.cycles_started,
            units_paid=s.units_paid,
            reason=s.last_reason,
        )

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._config.continue_as_new_after_events
        )

    async def _continue_as_new(self) -> None:
        self._disarm()
        await workflow.wait_condition(self._quiet)
        if self._finished:
            return
        if self._project_pending:
            await self._project()
        self._continue = False
        workflow.continue_as_new(
            CaseInput(
                request=self._input.request,
                member_ref=self._input.member_ref,
                config=self._config,
                state=self.s,
                submitted_by=self._input.submitted_by,
            )
        )

    # -------------------------------------------------------------- updates

    @workflow.update(name="first_decision")
    async def first_decision(self) -> CaseStatusView:
        """The case once its first determination is known (it has left ``received``).

        Submission sends it with the start (update-with-start), so the caller gets the
        engine's answer without polling; on a decided case it answers at once.
        """
        await workflow.wait_condition(lambda: self.s.status != "received")
        return self.status()

    @workflow.update(name="adjudicate_claim")
    async def adjudicate_claim(self, message: ClaimLineMessage) -> ClaimAnswer:
        """Section II and POLICY.md, Claims: the ledger answers; idempotent on claim id + line."""
        s = self.s
        line = message.claim_line()  # the sender is not part of the line's identity
        key = _claim_key(line)
        fingerprint = _fingerprint(line)
        received_on = self._today()  # when the line arrives (timely filing), not when it is run
        async with self._lock:
            seen = s.claim_record(key)
            if seen is not None and seen.fingerprint == fingerprint:
                return seen.answer  # the same line again: the first answer, nothing counted
            # A local activity: the hot path (hundreds of lines a case), one marker event
            # instead of three and no extra task round trip; the ledger is idempotent.
            answer = await workflow.execute_local_activity_method(
                ClaimsLedger.adjudicate_claim,
                AdjudicateClaimInput(
                    case_id=s.case_id,
                    member_ref=self._input.member_ref,
                    line=line,
                    periods=self._period_terms(),
                    death_date=s.death_date,
                    discontinued_date=s.discontinued_date,
                    withdrawn_on=s.withdrawn_on,
                    received_on=received_on,
                    line_of_business=s.request.line_of_business,
                    timely_filing_days=self._timely_filing_days(),
                    sent_by=message.sent_by,
                ),
                start_to_close_timeout=SHORT,
                retry_policy=RETRY,
                summary=f"claim {line.claim_id}/{line.line}{' reversal' if line.reversal else ''}",
            )
            if seen is not None:
                return answer  # another content under a known claim id + line (CARC 16)
            s.claims[key] = ClaimRecord(
                fingerprint=fingerprint, answer=answer, date_of_service=line.date_of_service
            )
            if answer.allowed_units:
                s.units_paid += answer.allowed_units
                for period in s.periods:
                    if period.covers(line.date_of_service):
                        period.units_paid += answer.allowed_units
                        break
                if not line.reversal and answer.allowed_units > 0:
                    self._claim_starts_cycle(line.date_of_service)
                if workflow.patched(PATCH_LEDGER_KEEPS_UNITS_PAID):
                    # The ledger wrote units_paid to the case's record in the line's own
                    # transaction: no projection per line (a cycle it starts projects).
                    # The run loop still wakes: a long history continues as new.
                    self._refresh_ui()
                    self._poke()
                else:
                    self._changed()
            return answer

    @adjudicate_claim.validator
    def _validate_claim(self, line: ClaimLineMessage) -> None:
        if line.member_id.strip() != self.s.request.member.member_id.strip():
            raise ValueError("the claim is for another member than this authorization's")
        if self._finished:  # the run is ending: nothing more is adjudicated
            until = self.s.run_out_until
            raise ValueError(
                f"the case has ended ({self.s.status})"
                + (f": its claims run-out ended {until}" if until else "")
            )

    @workflow.update(name="provide_info")
    async def provide_info(self, inp: ProvideInfoInput) -> ProvideInfoResult:
        """Facts that settle a pend (Section III, rule 3), or that a reviewer may use."""
        s = self.s
        actor = inp.requested_by or inp.source
        async with self._lock, self._acting(actor):
            if s.renewal_pending_info is not None and s.status in LIVE_STATUSES:
                facts = {**s.renewal_pending_info, **inp.facts}
                s.renewal_pending_info = None
                self._log("info", "facts received for the pended renewal", REF_RENEWAL, actor)
                res = await self._renew(facts, actor)
                return ProvideInfoResult(
                    accepted=res.accepted,
                    reason=res.reason,
                    status=s.status,
                    policy_ref=REF_RENEWAL,
                    determination=res.determination,
                    missing_facts=s.missing_facts,
                )
            review_kind = s.review.kind if s.review else None
            if s.status not in INFO_STATUSES or review_kind == "renewal":
                return ProvideInfoResult(
                    accepted=False,
                    status=s.status,
                    reason=f"the case is {s.status}: facts are taken while it is pended "
                    "or in review",
                )
            s.request = merge_facts(s.request, inp.facts, recorded=True)
            self._log("info", f"facts received: {', '.join(sorted(inp.facts))}", "III", actor)
            result = await self._evaluate()
            det = await self._apply_evaluation(result, "info")
            return ProvideInfoResult(
                accepted=True,
                status=s.status,
                reason=f"re-evaluated: {det}",
                policy_ref="III",
                determination=det,
                missing_facts=s.missing_facts,
            )

    @provide_info.validator
    def _validate_info(self, inp: ProvideInfoInput) -> None:
        _check_facts(self.s.request, inp.facts)

    @workflow.update(name="decide_review")
    async def decide_review(self, inp: ReviewDecisionInput) -> ReviewDecisionResult:
        """A reviewer decides the open review: initial, appeal (another reviewer) or renewal.

        The appeal rule compares subjects exactly: the API's reviewer is the caller's
        credential, so no spelling of a name makes the denying reviewer another one.
        """
        s = self.s
        async with self._lock, self._acting(inp.reviewer_id):
            review = s.review
            if review is None:
                return ReviewDecisionResult(
                    accepted=False,
                    status=s.status,
                    reason=f"no review is open: the case is {s.status}",
                )
            if review.exclude_reviewer and review.exclude_reviewer == inp.reviewer_id:
                return ReviewDecisionResult(
                    accepted=False,
                    status=s.status,
                    review_kind=review.kind,
                    policy_ref=REF_CLOCKS,
                    reason="the appeal is decided by a reviewer other than the one who denied",
                )
            if review.kind == "renewal":
                return await self._decide_renewal_review(review, inp)
            kind = "appeal" if review.kind == "appeal" else "review"
            reasons = [
                Reason(
                    code=f"reviewer_{inp.determination}",
                    policy_ref="III",
                    text=inp.rationale or f"reviewer {inp.determination}",
                )
            ]
            grant = None
            if inp.determination == "approve":
                grant = await self._terms_for_approval(inp.track)
                if grant is None:
                    return ReviewDecisionResult(
                        accepted=False,
                        status=s.status,
                        review_kind=review.kind,
                        reason="no track to approve on: name one (track)",
                    )
            await self._record_decision(
                kind,
                inp.determination,
                False,
                reviewer=inp.reviewer_id,
                rationale=inp.rationale,
                decision=s.decision,
                trace_from_key=s.decision_key,
            )
            if grant is not None:
                auth, s.terms = grant
                await self._grant(auth, s.decision if not inp.track else None, reasons)
            elif inp.determination == "deny":
                base = s.decision.reasons if s.decision else []
                await self._deny(inp.reviewer_id, [*reasons, *base], inp.rationale)
            else:
                await self._pend(list(s.decision.missing_facts if s.decision else []), reasons)
            return ReviewDecisionResult(
                accepted=True,
                status=s.status,
                reason=f"{review.kind} review decided: {inp.determination}",
                determination=inp.determination,
                review_kind=review.kind,
            )

    @workflow.update(name="request_renewal")
    async def request_renewal(self, inp: RenewalRequestInput) -> RenewalResult:
        """Section IV: decided on the case's facts with the changed facts merged over them."""
        async with self._lock, self._acting(inp.requested_by):
            return await self._renew(inp.facts, inp.requested_by)

    @request_renewal.validator
    def _validate_renewal(self, inp: RenewalRequestInput) -> None:
        _check_facts(self.s.request, inp.facts)

    @workflow.update(name="extend_period")
    async def extend_period(self, inp: ExtendPeriodInput) -> ExtendPeriodResult:
        """A reviewer extends the current period when treatment was paused (X12 extension)."""
        s = self.s
        async with self._lock, self._acting(inp.reviewer_id):
            period = s.period
            if s.status not in LIVE_STATUSES or period is None:
                return ExtendPeriodResult(
                    accepted=False,
                    status=s.status,
                    reason=f"only an active period can be extended; the case is {s.status}",
                )
            delta = timedelta(days=inp.days)
            period.end += delta
            period.extended_days += inp.days
            for later in s.periods[s.period_index + 1 :]:
                later.start += delta
                later.end += delta
            await self._record_decision(
                "extension", "approve", False, reviewer=inp.reviewer_id, rationale=inp.rationale
            )
            workflow.upsert_search_attributes(
                [AUTH_PERIOD_END.value_set(self._midnight(s.periods[-1].end))]
            )
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
            await self._renewal_clock(self._now())
            self._changed()
            return ExtendPeriodResult(
                accepted=True, status=s.status, reason="period extended", period_end=period.end
            )

    @workflow.update(name="appeal")
    async def appeal(self, inp: AppealInput) -> AppealResult:
        """An appeal of a denial, inside the window by line of business; another reviewer."""
        s = self.s
        async with self._lock, self._acting(inp.requested_by):
            if s.status != "denied" or s.appeal_deadline is None:
                return AppealResult(
                    accepted=False,
                    status=s.status,
                    reason=f"only a denied case with an open appeal window can be appealed; "
                    f"the case is {s.status}",
                )
            deadline = s.appeal_deadline
            s.appeal_deadline = None
            s.appeals_used += 1
            self._log(
                "appeal",
                f"appeal received: {inp.reason or 'no reason given'}",
                REF_CLOCKS,
                inp.requested_by,
            )
            await self._set_status("appealed", inp.reason or "appeal received")
            clock = self._config.decision_clock(s.request.line_of_business, s.request.urgency)
            self._notify(
                "appeal_received",
                {"reason": inp.reason, "due_by": (self._now() + clock).isoformat()},
            )
            reasons = s.decision.reasons if s.decision else []
            await self._open_review("appeal", "deny", reasons, exclude=s.denied_by)
            return AppealResult(
                accepted=True,
                status=s.status,
                reason="appeal taken; another reviewer decides",
                appeal_deadline=deadline,
            )

    @workflow.update(name="withdraw")
    async def withdraw(self, inp: WithdrawInput) -> WithdrawResult:
        """The requester withdraws the case; the withdrawal is a decision row naming them."""
        s = self.s
        async with self._lock, self._acting(inp.requested_by):
            if s.status not in WITHDRAWABLE or self._finished:
                return WithdrawResult(
                    accepted=False,
                    status=s.status,
                    reason=f"the case is {s.status}: nothing to withdraw",
                )
            if workflow.patched(PATCH_WITHDRAWAL_RECORDED):
                await self._record_decision(
                    "withdrawal", "withdrawn", False, rationale=inp.reason or None
                )
            self._log("withdrawn", inp.reason or "withdrawn by the requester", "", inp.requested_by)
            self._close_review()
            if s.periods:
                s.withdrawn_on = self._today()  # claims run-out: dates of service before it
            await self._set_status("withdrawn", inp.reason or "withdrawn by the requester")
            self._notify("withdrawn", {"date": self._today().isoformat(), "reason": inp.reason})
            self._finish(s.last_reason)
            return WithdrawResult(accepted=True, status=s.status, reason="case withdrawn")

    @workflow.update(name="record_clinical_event")
    async def record_clinical_event(self, message: ClinicalEventMessage) -> ClinicalEventResult:
        """A clinical event (CONTRACT.md); a repeated event id is answered and ignored.

        The case keeps the event; its row and the case's log name the sender.
        """
        s = self.s
        event = message.clinical_event()
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
        async with self._lock, self._acting(message.sent_by):
            problem = self._event_problem(event)
            if problem is not None:  # e.g. a retraction raced by another of the same event
                s.events_seen.remove(event.event_id)
                return ClinicalEventResult(
                    accepted=False,
                    status=s.status,
                    event_id=event.event_id,
                    reason=problem.message,
                    policy_ref=REF_EVENTS,
                )
            s.clinical_events.append(event)
            await self._apply_event(event, message.sent_by)
            return ClinicalEventResult(
                accepted=True,
                status=s.status,
                event_id=event.event_id,
                reason=f"{event.type} event recorded",
                policy_ref=REF_EVENTS,
            )

    @record_clinical_event.validator
    def _validate_clinical_event(self, message: ClinicalEventMessage) -> None:
        """Refused before it reaches history: a date out of range, a bad retraction."""
        if message.event_id in self.s.events_seen:
            return
        problem = self._event_problem(message.clinical_event())
        if problem is not None:
            raise ApplicationError(
                problem.message,
                {"errors": [{"field": problem.field, "message": problem.message}]},
                type="InvalidInput" if problem.kind == "invalid" else "Conflict",
                non_retryable=True,
            )

    # --------------------------------------------------------------- signal

    @workflow.signal(name="clinical_event")
    async def clinical_event(self, message: ClinicalEventMessage) -> None:
        """The event as a signal, for cases that recorded it: ``record_clinical_event`` now.

        Repeated event ids are ignored; an event the update would refuse is
        dropped with a log line (a signal has no one to answer).
        """
        s = self.s
        event = message.clinical_event()  # the case keeps the event; its row names the sender
        if event.event_id in s.events_seen:
            return
        if workflow.patched(PATCH_CLINICAL_EVENT_CHECKED):
            problem = self._event_problem(event)
            if problem is not None:
                workflow.logger.warning(
                    "clinical event dropped: %s (%s)",
                    problem.message,
                    problem.field,
                    extra={"case": s.case_id, "event_id": event.event_id},
                )
                return
        s.events_seen.append(event.event_id)
        s.clinical_events.append(event)
        async with self._lock, self._acting(message.sent_by):
            await self._apply_event(event, message.sent_by)

    # -------------------------------------------------------------- queries

    @workflow.query(name="status")
    def status(self) -> CaseStatusView:
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
            awaiting=self._awaiting(),
            missing_facts=s.missing_facts,
            pend_deadline=s.pend_deadline,
            review_kind=s.review.kind if s.review else None,
            review_due=s.review.due_at if s.review else None,
            escalated=s.escalated,
            appeal_deadline=s.appeal_deadline,
            period_index=s.period_index if period else None,
            period_start=period.start if period else None,
            period_end=period.end if period else None,
            renewal_window_opens=self._window_opens(period) if period else None,
            renewals_used=s.renewals_used,
            max_renewals=self._max_renewals,
            cycles_started=s.cycles_started,
            total_cycles=self._terms.total_cycles if self._terms else 0,
            units_paid=s.units_paid,
            units_authorized=s.units_authorized,
            last_reason=s.last_reason,
            run=s.runs,
            run_out_until=s.run_out_until,
            run_out_service_through=s.claims_through() if s.run_out_until else None,
        )

    @workflow.query(name="periods")
    def periods(self) -> PeriodsView:
        return PeriodsView(
            periods=self._period_views(), current=self.s.period_index if self.s.periods else None
        )

    @workflow.query(name="cycles")
    def cycles(self) -> CyclesView:
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
            total_cycles=self._terms.total_cycles if self._terms else 0,
            prior_cycles=s.prior_cycles,
        )

    @workflow.query(name="units")
    def units(self) -> UnitsView:
        s = self.s
        return UnitsView(
            units_paid=s.units_paid,
            units_authorized=s.units_authorized,
            by_period=self._period_views(),
            claims=s.claim_answers(),
        )

    @workflow.query(name="history")
    def history(self) -> HistoryView:
        s = self.s
        return HistoryView(
            status_changes=s.status_changes, notifications=s.notifications, entries=s.log
        )
