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
withdrawn; active -> discontinued (kept open until the period's end so late
claims up to the discontinuation date are still answered).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.claims_ledger import ClaimsLedger
    from activities.evaluation import EvaluationActivities
    from activities.models import (
        AdjudicateClaimInput,
        AuthorizationProjection,
        ClinicalEventInput,
        EvaluateRequestInput,
        EvaluationResult,
        GrantTerms,
        GrantTermsInput,
        MemberHistoryInput,
        NotificationInput,
        PeriodTerms,
        RecordDecisionInput,
        TrackTerms,
    )
    from activities.notifications import Notifier
    from activities.store import CaseStore
    from domain.claim import ClaimAnswer, ClaimLine
    from domain.clinical_event import ClinicalEvent
    from domain.decision import Authorization, Decision, Reason
    from domain.facts import merge_facts
    from domain.renewal import RenewalDecision, RenewalInput
    from infra.temporal import (
        AUTH_ESCALATED,
        AUTH_PERIOD_END,
        AUTH_RENEWALS_USED,
        AUTH_STATUS,
        AUTH_TRACK,
        MEMBER_REF,
    )
    from workflows import ui
    from workflows.case_state import (
        LIVE_STATUSES,
        CaseState,
        ClaimRecord,
        CycleState,
        LogEntry,
        NoticeRecord,
        PendingReview,
        PeriodState,
        StatusChange,
    )
    from workflows.messages import (
        AppealInput,
        AppealResult,
        CaseInput,
        CaseResult,
        CaseStatusView,
        CyclesView,
        CycleView,
        ExtendPeriodInput,
        ExtendPeriodResult,
        HistoryView,
        PeriodsView,
        PeriodView,
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

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60))
SHORT = timedelta(seconds=30)
NOTICE_TIMEOUT = timedelta(minutes=5)
NOTICE_HEARTBEAT = timedelta(seconds=60)

REF_PERIOD = "I"
REF_RENEWAL = "IV"
REF_CLOCKS = "Decision clocks and appeals"
WITHDRAWABLE = frozenset(
    {"received", "pended", "in_review", "appealed", "active", "renewal_window"}
)
INFO_STATUSES = frozenset({"pended", "in_review", "appealed"})


def _fingerprint(line: ClaimLine) -> str:
    text = json.dumps(line.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _claim_key(line: ClaimLine) -> str:
    return f"{line.claim_id}:{line.line}:{'reversal' if line.reversal else 'original'}"


def _reasons(reasons: list[Reason]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in reasons]


def _first_reason(reasons: list[Reason], default: str) -> str:
    return reasons[0].text if reasons else default


@workflow.defn
class AuthorizationWorkflow:
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

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        s = self.s
        if inp.state is None:
            self._record_status_change("received", "request received")
            self._log("received", f"request {s.request.request_id} received")
            async with self._lock:
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
            )
        )

    # ----------------------------------------------------------- the clock

    def _now(self) -> datetime:
        return workflow.now() + timedelta(seconds=self.s.clock_offset_seconds)

    def _tz(self):
        return self.s.request.received_at.tzinfo

    def _today(self) -> date:
        return self._now().astimezone(self._tz()).date()

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=self._tz())

    def _day(self, at: datetime) -> int:
        return (at.astimezone(self._tz()).date() - self.s.received_day).days

    def _period_end_at(self, period: PeriodState) -> datetime:
        """A period covers its last day whole: it ends at the midnight after it (Section I)."""
        return self._midnight(period.end + timedelta(days=1))

    def _window_opens(self, period: PeriodState) -> date | None:
        """Section IV.2: ``end - N`` days (N from the policy data), when a renewal is possible."""
        if self._terms is None or not self._renewal_possible():
            return None
        return period.end - timedelta(days=self._terms.renewal_window_days)

    def _reminders_due(self, period: PeriodState, opens: date) -> list[tuple[int, datetime]]:
        """The renewal reminders not sent yet: (days before the end, when)."""
        return [
            (days, self._midnight(max(opens, period.end - timedelta(days=days))))
            for days in self._config.renewal_reminder_days
            if self._notice_key("renewal_reminder", days) not in self.s.notices_sent
        ]

    @property
    def _terms(self) -> TrackTerms | None:
        return self.s.terms

    def _renewal_possible(self) -> bool:
        """Section IV.1 and I: renewable, renewals left and cycles left after the last period."""
        s, terms = self.s, self._terms
        if terms is None or not terms.renewable or not s.periods:
            return False
        return (
            s.renewals_used < terms.max_renewals and s.periods[-1].last_cycle < terms.total_cycles
        )

    def _next_deadline(self) -> tuple[datetime, str] | None:
        s = self.s
        candidates: list[tuple[datetime, str]] = []
        if s.status == "pended" and s.pend_deadline is not None:
            candidates.append((s.pend_deadline, "pend deadline: facts not received -> review"))
        if s.review is not None:
            if not s.escalated:
                candidates.append((s.review.escalate_at, f"{s.review.kind} review: escalation"))
            elif not s.review.overdue:
                candidates.append((s.review.due_at, f"{s.review.kind} review: decision clock"))
        if s.status == "denied" and s.appeal_deadline is not None:
            candidates.append((s.appeal_deadline, "appeal window closes"))
        period = s.period
        if period is not None and (s.status in LIVE_STATUSES or s.status == "discontinued"):
            candidates.append(
                (self._period_end_at(period), f"period {s.period_index + 1} ends ({period.end})")
            )
            if s.status in LIVE_STATUSES and s.period_index == len(s.periods) - 1:
                opens = self._window_opens(period)
                if opens is not None:
                    if s.status == "active":
                        candidates.append((self._midnight(opens), f"renewal window opens {opens}"))
                    candidates += [
                        (when, f"renewal reminder, {days} days before the end")
                        for days, when in self._reminders_due(period, opens)
                    ]
            if s.status in LIVE_STATUSES and s.cycles:
                last = s.cycles[-1]
                if last.cycle not in s.boundaries_logged and last.cycle_days:
                    candidates.append(
                        (self._midnight(last.next_start), f"cycle {last.cycle} boundary")
                    )
        if not candidates:
            return None
        return min(candidates, key=lambda c: c[0])

    async def _wait(self) -> None:
        nxt = self._next_deadline()
        if nxt != self._armed:
            self._disarm()
            if nxt is not None:
                self._armed = nxt
                self._timer_fired = False
                self._timer_task = asyncio.create_task(self._sleep_until(*nxt))
        await workflow.wait_condition(
            lambda: self._wake or self._timer_fired or self._finished or self._continue
        )
        self._wake = False
        if self._timer_fired:
            self._timer_fired = False
            self._armed = None
            self._timer_task = None

    async def _sleep_until(self, deadline: datetime, label: str) -> None:
        delay = max(deadline - self._now(), timedelta(seconds=1))
        await workflow.sleep(delay, summary=label)
        self._timer_fired = True

    def _disarm(self) -> None:
        if self._timer_task is not None and not self._timer_task.done():
            self._timer_task.cancel()
        self._timer_task = None
        self._armed = None
        self._timer_fired = False

    def _poke(self) -> None:
        self._wake = True

    # ---------------------------------------------------- due processing

    async def _process_due(self) -> None:
        s = self.s
        now = self._now()
        if s.status == "pended" and s.pend_deadline is not None and now >= s.pend_deadline:
            s.pend_deadline = None
            self._log("pend_deadline", "facts not received by the deadline: clinical review")
            await self._open_review("initial", "pend", s.decision.reasons if s.decision else [])
        if s.review is not None:
            await self._check_clock(now)
        if s.status == "denied" and s.appeal_deadline is not None and now >= s.appeal_deadline:
            s.appeal_deadline = None
            self._finish("appeal window closed unused; the denial stands")
            return
        if s.period is None or s.status not in (*LIVE_STATUSES, "discontinued"):
            return
        while not self._finished and now >= self._period_end_at(s.period):
            await self._end_period()
        if self._finished or s.status not in LIVE_STATUSES:
            return
        await self._renewal_clock(now)
        self._cycle_boundary(now)

    def _cycle_boundary(self, now: datetime) -> None:
        """The current cycle's planned length is over (Section I): note it in the story."""
        s = self.s
        last = s.cycles[-1] if s.cycles else None
        if last is None or not last.cycle_days or last.cycle in s.boundaries_logged:
            return
        if now >= self._midnight(last.next_start):
            s.boundaries_logged.append(last.cycle)
            self._log(
                "cycle_boundary",
                f"cycle {last.cycle} ({last.phase}, {last.cycle_days} d) ended on "
                f"{last.next_start - timedelta(days=1)}",
                REF_PERIOD,
            )
            self._refresh_ui()

    async def _check_clock(self, now: datetime) -> None:
        """Decision clocks: escalate before the clock runs out (DESIGN.md, Case statuses)."""
        s = self.s
        review = s.review
        assert review is not None
        if not s.escalated and now >= review.escalate_at:
            s.escalated = True
            workflow.upsert_search_attributes([AUTH_ESCALATED.value_set(True)])
            left = max(0, int((review.due_at - now).total_seconds() // 3600))
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
        if s.escalated and not review.overdue and now >= review.due_at:
            review.overdue = True
            self._log("clock_ran_out", f"{review.kind} review decision clock ran out", REF_CLOCKS)
            self._changed()

    async def _renewal_clock(self, now: datetime) -> None:
        """Section IV.2: the window opens at end - N days; reminders before the end."""
        s = self.s
        period = s.period
        if period is None or s.period_index != len(s.periods) - 1:
            return
        opens = self._window_opens(period)
        if opens is None or now < self._midnight(opens):
            if s.status == "renewal_window":
                await self._set_status("active", "renewal window not open (period extended)")
            return
        if s.status == "active":
            await self._set_status("renewal_window", f"renewal window open from {opens}")
            self._notify(
                "renewal_window_open",
                {
                    "period_end": period.end.isoformat(),
                    "window_opens": opens.isoformat(),
                    "renewals_used": s.renewals_used,
                    "max_renewals": self._terms.max_renewals if self._terms else 0,
                },
            )
        for days, when in self._reminders_due(period, opens):
            if now >= when:
                left = (period.end - self._today()).days + 1
                self._notify(
                    "renewal_reminder",
                    {"period_end": period.end.isoformat(), "days_left": left},
                    n=days,
                )

    async def _end_period(self) -> None:
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
            if s.status != "active":
                await self._set_status("active", "renewed period started")
            self._changed()
            return
        payload = {"period_end": period.end.isoformat(), "cycles_total": s.cycles_started}
        if self._renewal_possible():
            await self._set_status("expired", "the period ended without a renewal")
            self._notify("expiry", payload)
        else:
            await self._set_status("completed", "the last allowed period ended")
            self._notify("completed", payload)
        self._finish(s.last_reason)

    # -------------------------------------------------------------- intake

    async def _intake(self) -> None:
        s = self.s
        # Searchable from the start (the starter sets MemberRef and AuthStatus too).
        workflow.upsert_search_attributes(
            [
                MEMBER_REF.value_set(self._input.member_ref),
                AUTH_STATUS.value_set("received"),
                AUTH_ESCALATED.value_set(False),
            ]
        )
        history = await workflow.execute_activity_method(
            CaseStore.member_history,
            MemberHistoryInput(member_ref=self._input.member_ref, exclude_case_id=s.case_id),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary="prior blinatumomab cycles of the member (Section I)",
        )
        s.prior_cycles = max(s.request.therapy.prior_blinatumomab_cycles or 0, history.prior_cycles)
        result = await self._evaluate()
        await self._apply_evaluation(result, "initial")

    async def _evaluate(self) -> EvaluationResult | None:
        s = self.s
        try:
            return await workflow.execute_activity_method(
                EvaluationActivities.evaluate_request,
                EvaluateRequestInput(
                    request=s.request,
                    as_of=self._today(),
                    prior_cycles=s.prior_cycles,
                    allow_automatic_denial=s.request.line_of_business
                    in self._config.auto_deny_lines_of_business,
                ),
                start_to_close_timeout=SHORT,
                retry_policy=RETRY,
                summary="evaluate the request against the policy (Section III)",
            )
        except ActivityError as err:
            self._log("evaluation_failed", f"automated evaluation failed: {err.cause or err}")
            return None

    async def _apply_evaluation(self, result: EvaluationResult | None, kind: str) -> str:
        """Act on the engine's determination (DESIGN.md, How data flows, step 4)."""
        s = self.s
        if result is None:
            s.determination = "review"
            await self._open_review(
                "initial",
                "review",
                [
                    Reason(
                        code="evaluation_failed",
                        policy_ref="III",
                        text="automated evaluation failed",
                    )
                ],
            )
            return "review"
        decision = result.decision
        s.decision = decision
        s.determination = decision.determination
        s.missing_facts = list(decision.missing_facts)
        if result.terms is not None:
            s.terms = result.terms
        await self._record_decision(kind, decision.determination, True, decision=decision)
        det = decision.determination
        if det == "approve" and decision.authorization is not None:
            await self._grant(decision.authorization, decision, decision.reasons)
        elif s.review is not None:
            # New facts during a review: an approval needs no reviewer, anything
            # else stays with the reviewer as the new recommendation.
            s.review.recommendation = det
            s.review.reasons = decision.reasons
            self._log("review_updated", f"re-evaluated in review: {det}", "III")
            self._changed()
        elif det == "pend":
            await self._pend(decision.missing_facts, decision.reasons)
        elif det == "not_applicable":
            await self._set_status(
                "not_applicable", _first_reason(decision.reasons, "Medicare Part B")
            )
            self._notify(
                "not_applicable",
                {
                    "medicare": decision.medicare.model_dump(mode="json")
                    if decision.medicare
                    else None,
                    "reasons": _reasons(decision.reasons),
                },
            )
            self._finish(s.last_reason)
        elif det == "deny" and decision.automated:
            await self._deny(None, decision.reasons)
        else:
            # review, a deny recommendation (no adverse decision is automated), or an
            # approve without terms: a clinical reviewer decides.
            await self._open_review("initial", det, decision.reasons)
        return det

    # ---------------------------------------------------------- transitions

    async def _grant(
        self, auth: Authorization, decision: Decision | None, reasons: list[Reason]
    ) -> None:
        """Approve on a track: the initial period and its terms (Sections I, II)."""
        s = self.s
        if decision is not None:
            s.track = decision.track or s.track
            s.path = decision.path or s.path
        s.periods = [
            PeriodState(
                start=auth.start,
                end=auth.end,
                kind="initial",
                cycles=auth.cycles,
                first_cycle=auth.first_cycle,
                authorized_units=auth.authorized_units,
            )
        ]
        s.period_index = 0
        s.determination = "approve"
        s.missing_facts = []
        s.pend_deadline = None
        self._close_review()
        workflow.upsert_search_attributes(
            [
                AUTH_TRACK.value_set(s.track or ""),
                AUTH_PERIOD_END.value_set(self._midnight(s.periods[-1].end)),
                AUTH_RENEWALS_USED.value_set(s.renewals_used),
            ]
        )
        self._log(
            "approved",
            f"approved on {s.track}: {auth.start} → {auth.end}, {auth.cycles} cycles, "
            f"{auth.authorized_units} units",
            reasons[0].policy_ref if reasons else REF_PERIOD,
        )
        await self._set_status("active", f"approved on {s.track}")
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

    async def _pend(self, missing: list[str], reasons: list[Reason]) -> None:
        s = self.s
        s.missing_facts = list(missing)
        self._close_review()
        if s.status != "pended" or s.pend_deadline is None:
            s.pend_deadline = self._now() + timedelta(days=self._config.pend_deadline_days)
        await self._set_status("pended", "waiting for " + (", ".join(missing) or "information"))
        self._notify(
            "pend",
            {
                "missing_facts": missing,
                "deadline": s.pend_deadline.date().isoformat(),
                "reasons": _reasons(reasons),
            },
        )

    async def _open_review(
        self,
        kind: str,
        recommendation: str | None,
        reasons: list[Reason],
        *,
        exclude: str | None = None,
        renewal: RenewalDecision | None = None,
        renewal_facts: dict[str, Any] | None = None,
    ) -> None:
        """A clinical reviewer decides, on a clock by urgency and line of business."""
        s = self.s
        now = self._now()
        clock = self._config.decision_clock(s.request.line_of_business, s.request.urgency)
        due = now + clock
        escalate_at = max(now, due - timedelta(hours=self._config.escalate_before_hours))
        s.review = PendingReview(
            kind=kind,
            recommendation=recommendation,
            assigned_at=now,
            due_at=due,
            escalate_at=escalate_at,
            exclude_reviewer=exclude,
            renewal_facts=renewal_facts or {},
            renewal_decision=renewal.model_dump(mode="json") if renewal else None,
            reasons=reasons,
        )
        s.pend_deadline = None
        self._set_escalated(False)
        text = f"{kind} review opened (recommendation: {recommendation or 'none'})"
        self._log("review_opened", text, reasons[0].policy_ref if reasons else REF_CLOCKS)
        if kind != "renewal":
            await self._set_status("in_review", text)
        else:
            self._changed()
        self._notify(
            "review_assignment",
            {
                "queue": "clinical-review" if kind != "appeal" else "appeal-review",
                "due_by": due.isoformat(),
                "urgency": s.request.urgency,
                "stage": kind,
                "reasons": _reasons(reasons),
            },
        )

    def _close_review(self) -> None:
        if self.s.review is not None:
            self.s.review = None
            self._set_escalated(False)

    def _set_escalated(self, value: bool) -> None:
        if self.s.escalated != value:
            workflow.upsert_search_attributes([AUTH_ESCALATED.value_set(value)])
            self.s.escalated = value

    async def _deny(self, reviewer: str | None, reasons: list[Reason], rationale: str = "") -> None:
        """A denial (by a reviewer, or by the engine where a setting allows): appeal window."""
        s = self.s
        self._close_review()
        s.denied_by = reviewer
        window = self._config.appeal_window(s.request.line_of_business)
        can_appeal = s.appeals_used < self._config.max_appeals
        s.appeal_deadline = self._now() + window if can_appeal else None
        await self._set_status("denied", rationale or _first_reason(reasons, "criteria not met"))
        self._notify(
            "denial",
            {
                "reasons": _reasons(reasons),
                "appeal_deadline": s.appeal_deadline.date().isoformat()
                if s.appeal_deadline
                else None,
                "appeal_window_days": window.days if can_appeal else 0,
                "reviewer_id": reviewer,
            },
        )
        if not can_appeal:
            self._finish("denied on appeal")

    async def _discontinue(self, event: ClinicalEvent) -> None:
        """Treatment stopped (death or discontinuation): claims after the date are denied."""
        s = self.s
        if s.status in LIVE_STATUSES:
            # Keep answering claims dated up to the event until the current period ends.
            s.periods = s.periods[: s.period_index + 1]
            self._close_review()
            s.renewal_pending_info = None
            await self._set_status("discontinued", f"{event.type} reported for {event.date}")
            self._notify("discontinued", {"date": event.date.isoformat(), "reason": event.type})
        elif s.status in ("received", "pended", "in_review", "appealed", "denied"):
            self._close_review()
            await self._set_status("discontinued", f"{event.type} reported for {event.date}")
            self._notify("discontinued", {"date": event.date.isoformat(), "reason": event.type})
            self._finish(s.last_reason)

    def _finish(self, reason: str) -> None:
        self.s.last_reason = reason or self.s.last_reason
        self._log("closed", f"case closed: {self.s.status} ({reason})")
        self._finished = True
        self._refresh_ui()
        self._changed()

    # -------------------------------------------------------------- updates

    @workflow.update(name="adjudicate_claim")
    async def adjudicate_claim(self, line: ClaimLine) -> ClaimAnswer:
        """Section II and POLICY.md, Claims: the ledger answers; idempotent on claim id + line."""
        s = self.s
        key = _claim_key(line)
        fingerprint = _fingerprint(line)
        async with self._lock:
            seen = s.claims.get(key)
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
                self._changed()
            return answer

    @adjudicate_claim.validator
    def _validate_claim(self, line: ClaimLine) -> None:
        if line.member_id.strip() != self.s.request.member.member_id.strip():
            raise ValueError("the claim is for another member than this authorization's")

    @workflow.update(name="provide_info")
    async def provide_info(self, inp: ProvideInfoInput) -> ProvideInfoResult:
        """Facts that settle a pend (Section III, rule 3), or that a reviewer may use."""
        s = self.s
        async with self._lock:
            if s.renewal_pending_info is not None and s.status in LIVE_STATUSES:
                facts = {**s.renewal_pending_info, **inp.facts}
                s.renewal_pending_info = None
                self._log("info", "facts received for the pended renewal", REF_RENEWAL, inp.source)
                res = await self._renew(facts, inp.source)
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
            s.request = merge_facts(s.request, inp.facts)
            self._log("info", f"facts received: {', '.join(sorted(inp.facts))}", "III", inp.source)
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
        merge_facts(self.s.request, inp.facts)

    @workflow.update(name="decide_review")
    async def decide_review(self, inp: ReviewDecisionInput) -> ReviewDecisionResult:
        """A reviewer decides the open review: initial, appeal (another reviewer) or renewal."""
        s = self.s
        async with self._lock:
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
        async with self._lock:
            return await self._renew(inp.facts, inp.requested_by)

    @request_renewal.validator
    def _validate_renewal(self, inp: RenewalRequestInput) -> None:
        merge_facts(self.s.request, inp.facts)

    @workflow.update(name="extend_period")
    async def extend_period(self, inp: ExtendPeriodInput) -> ExtendPeriodResult:
        """A reviewer extends the current period when treatment was paused (X12 extension)."""
        s = self.s
        async with self._lock:
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
        async with self._lock:
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
        s = self.s
        async with self._lock:
            if s.status not in WITHDRAWABLE or self._finished:
                return WithdrawResult(
                    accepted=False,
                    status=s.status,
                    reason=f"the case is {s.status}: nothing to withdraw",
                )
            self._close_review()
            await self._set_status("withdrawn", inp.reason or "withdrawn by the requester")
            self._notify("withdrawn", {"date": self._today().isoformat(), "reason": inp.reason})
            self._finish(s.last_reason)
            return WithdrawResult(accepted=True, status=s.status, reason="case withdrawn")

    # --------------------------------------------------------------- signal

    @workflow.signal(name="clinical_event")
    async def clinical_event(self, event: ClinicalEvent) -> None:
        """A clinical event (CONTRACT.md); repeated event ids are ignored."""
        s = self.s
        if event.event_id in s.events_seen:
            return
        s.events_seen.append(event.event_id)
        s.clinical_events.append(event)
        async with self._lock:
            await workflow.execute_activity_method(
                CaseStore.record_clinical_event,
                ClinicalEventInput(
                    case_id=s.case_id,
                    member_ref=self._input.member_ref,
                    event=event,
                    received_at=self._now(),
                ),
                start_to_close_timeout=SHORT,
                retry_policy=RETRY,
                summary=f"clinical event {event.event_id} ({event.type})",
            )
            self._log("clinical_event", self._describe_event(event), REF_RENEWAL)
            if event.type == "cycle_started" and event.cycle_started is not None:
                self._start_cycle(event.cycle_started.cycle, event.date, "event")
            elif event.type == "death":
                s.death_date = event.date
                await self._discontinue(event)
            elif event.type == "discontinued":
                s.discontinued_date = event.date
                await self._discontinue(event)
            self._changed()

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
            max_renewals=self._terms.max_renewals if self._terms else 0,
            cycles_started=s.cycles_started,
            total_cycles=self._terms.total_cycles if self._terms else 0,
            units_paid=s.units_paid,
            units_authorized=s.units_authorized,
            last_reason=s.last_reason,
            run=s.runs,
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
            claims=[r.answer for r in s.claims.values()],
        )

    @workflow.query(name="history")
    def history(self) -> HistoryView:
        s = self.s
        return HistoryView(
            status_changes=s.status_changes, notifications=s.notifications, entries=s.log
        )

    # ------------------------------------------------------------ renewals

    async def _renew(self, facts: dict[str, Any], actor: str | None) -> RenewalResult:
        s = self.s
        period = s.period
        if s.status not in LIVE_STATUSES or period is None or self._finished:
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
        merged = merge_facts(s.request, facts)
        today = self._today()
        evaluation = await workflow.execute_activity_method(
            EvaluationActivities.evaluate_renewal,
            RenewalInput(
                request=merged,
                track=s.track or "",
                path=s.path,
                renewals_used=s.renewals_used,
                period_start=period.start,
                period_end=period.end,
                as_of=today,
                events=s.clinical_events,  # the engine reads those of the current period
                policy_id=s.decision.policy.id if s.decision else None,
                allow_automatic_denial=s.request.line_of_business
                in self._config.auto_deny_lines_of_business,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"evaluate renewal {s.renewals_used + 1} (Section IV)",
        )
        det = evaluation.determination
        self._log(
            "renewal_request",
            f"renewal requested: {det} — {_first_reason(evaluation.reasons, det)}",
            REF_RENEWAL,
            actor,
        )
        await self._record_decision(
            "renewal",
            det,
            True,
            reasons=_reasons(evaluation.reasons),
            trace=evaluation.trace.model_dump(mode="json") if evaluation.trace else None,
            policy=(evaluation.policy.id, evaluation.policy.version),
        )
        view: PeriodView | None = None
        if det == "approve" and evaluation.authorization is not None:
            s.request = merged
            view = await self._add_renewal_period(evaluation.authorization, actor)
            accepted, reason = True, "renewal approved"
        elif det == "review" or (det == "deny" and not evaluation.automated):
            # No adverse decision is automated: a deny is a reviewer's recommendation.
            await self._open_review(
                "renewal", det, evaluation.reasons, renewal=evaluation, renewal_facts=facts
            )
            accepted, reason = True, f"renewal sent to clinical review (recommendation: {det})"
        elif det == "pend":
            s.renewal_pending_info = facts
            s.missing_facts = list(evaluation.missing_facts)
            self._notify(
                "pend",
                {
                    "missing_facts": evaluation.missing_facts,
                    "deadline": period.end.isoformat(),
                    "reasons": _reasons(evaluation.reasons),
                },
            )
            accepted, reason = (
                True,
                "renewal pended: "
                + (
                    ", ".join(evaluation.missing_facts)
                    or _first_reason(evaluation.reasons, "facts")
                ),
            )
        else:
            self._notify(
                "renewal_refused",
                {
                    "reasons": _reasons(evaluation.reasons),
                    "window_opens": evaluation.window_opens.isoformat()
                    if evaluation.window_opens
                    else None,
                },
            )
            accepted = False
            reason = _first_reason(evaluation.reasons, f"renewal refused: {det}")
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
        )

    async def _add_renewal_period(self, auth: Authorization, actor: str | None) -> PeriodView:
        s = self.s
        s.periods.append(
            PeriodState(
                start=auth.start,
                end=auth.end,
                kind="renewal",
                cycles=auth.cycles,
                first_cycle=auth.first_cycle,
                authorized_units=auth.authorized_units,
            )
        )
        s.renewals_used += 1
        s.renewal_pending_info = None
        s.missing_facts = []
        self._close_review()
        workflow.upsert_search_attributes(
            [
                AUTH_RENEWALS_USED.value_set(s.renewals_used),
                AUTH_PERIOD_END.value_set(self._midnight(auth.end)),
            ]
        )
        self._log(
            "renewed",
            f"renewal {s.renewals_used} approved: {auth.start} → {auth.end}, cycles "
            f"{auth.first_cycle}–{auth.first_cycle + auth.cycles - 1}",
            REF_RENEWAL,
            actor,
        )
        await self._set_status("active", f"renewal {s.renewals_used} approved")
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
                "renewals_left": max(
                    0, (self._terms.max_renewals if self._terms else 0) - s.renewals_used
                ),
                "policy_ref": REF_RENEWAL,
            },
            n=s.renewals_used,
        )
        self._continue = True
        return self._period_views()[-1]

    async def _decide_renewal_review(
        self, review: PendingReview, inp: ReviewDecisionInput
    ) -> ReviewDecisionResult:
        s = self.s
        await self._record_decision(
            "renewal", inp.determination, False, reviewer=inp.reviewer_id, rationale=inp.rationale
        )
        evaluation = (
            RenewalDecision.model_validate(review.renewal_decision)
            if review.renewal_decision
            else None
        )
        if inp.determination == "approve":
            if evaluation is None or evaluation.authorization is None:
                return ReviewDecisionResult(
                    accepted=False,
                    status=s.status,
                    review_kind="renewal",
                    reason="the renewal has no terms to approve",
                )
            s.request = merge_facts(s.request, review.renewal_facts)
            await self._add_renewal_period(evaluation.authorization, inp.reviewer_id)
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
        )

    async def _terms_for_approval(
        self, track: str | None
    ) -> tuple[Authorization, TrackTerms] | None:
        """The period to grant on a reviewer's approval: the engine's, else the named track's."""
        s = self.s
        decision = s.decision
        if (
            track is None
            and decision is not None
            and decision.authorization is not None
            and s.terms
        ):
            return decision.authorization, s.terms
        track = track or (decision.track if decision else None) or s.request.therapy.setting
        if track is None:
            return None
        try:
            grant: GrantTerms = await workflow.execute_activity_method(
                EvaluationActivities.grant_terms,
                GrantTermsInput(
                    request=s.request, track=track, as_of=self._today(), prior_cycles=s.prior_cycles
                ),
                start_to_close_timeout=SHORT,
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary=f"terms of track {track} (Section I)",
            )
        except ActivityError:
            return None
        s.track = track
        return grant.authorization, grant.terms

    # -------------------------------------------------------------- cycles

    def _claim_starts_cycle(self, day: date) -> None:
        """A cycle starts at the first paid claim in it (DESIGN.md; Section I cycle lengths)."""
        s = self.s
        period = next((p for p in s.periods if p.covers(day)), None)
        if period is None:
            return
        if not s.cycles:
            self._start_cycle(s.periods[0].first_cycle, day, "claim")
            return
        last = s.cycles[-1]
        if last.cycle_days and day >= last.next_start and last.cycle + 1 <= period.last_cycle:
            self._start_cycle(last.cycle + 1, day, "claim")

    def _start_cycle(self, number: int, day: date, by: str) -> None:
        s = self.s
        if any(c.cycle == number for c in s.cycles):
            return
        terms = self._terms
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

    # ------------------------------------------------------------- helpers

    def _changed(self) -> None:
        self._project_pending = True
        self._refresh_ui()
        self._poke()

    async def _set_status(self, status: str, reason: str = "") -> None:
        s = self.s
        s.last_reason = reason or s.last_reason
        if status == s.status:
            self._changed()
            return
        self._record_status_change(status, reason)
        workflow.upsert_search_attributes([AUTH_STATUS.value_set(status)])
        self._changed()

    def _record_status_change(self, status: str, reason: str) -> None:
        s = self.s
        now = self._now()
        s.status = status  # type: ignore[assignment]
        s.status_changes.append(
            StatusChange(status=status, at=now, day=self._day(now), reason=reason)
        )

    def _log(self, kind: str, text: str, policy_ref: str = "", actor: str | None = None) -> None:
        now = self._now()
        self.s.log.append(
            LogEntry(
                at=now, day=self._day(now), kind=kind, text=text, policy_ref=policy_ref, actor=actor
            )
        )

    def _notice_key(self, kind: str, n: int) -> str:
        return f"{self.s.case_id}:{kind}:{self.s.period_index}:{n}"

    def _notify(self, kind: str, payload: dict[str, Any], *, n: int | None = None) -> None:
        """Queue a notice (key ``case:kind:period:n``); the case does not wait for delivery.

        Notices go out one after the other, in order, from a task of their own, so
        a slow or lost delivery never holds claims or decisions; the queue is
        drained before the run continues as new or ends.
        """
        s = self.s
        if n is None:
            prefix = f"{s.case_id}:{kind}:{s.period_index}:"
            n = sum(1 for k in s.notices_sent if k.startswith(prefix))
        key = self._notice_key(kind, n)
        if key in s.notices_sent:
            return
        s.notices_sent.append(key)
        now = self._now()
        s.notifications.append(NoticeRecord(kind=kind, key=key, at=now, day=self._day(now)))
        npi = s.request.prescriber.npi or "unknown"
        self._outbox.append(
            NotificationInput(
                key=key,
                case_id=s.case_id,
                kind=kind,
                recipient=f"{self._config.notification_recipient}:{npi}",
                payload=payload,
            )
        )
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_notices())

    async def _send_notices(self) -> None:
        while self._outbox:
            notice = self._outbox[0]
            await workflow.execute_activity_method(
                Notifier.send_notification,
                notice,
                start_to_close_timeout=NOTICE_TIMEOUT,
                # The notifier heartbeats between delivery attempts: a lost worker's
                # attempt is retried within this, not after the whole timeout.
                heartbeat_timeout=NOTICE_HEARTBEAT,
                retry_policy=RETRY,
                summary=f"notify {notice.kind}",
            )
            self._outbox.pop(0)

    def _quiet(self) -> bool:
        """No handler running and no notice waiting: the run may end or continue as new."""
        return workflow.all_handlers_finished() and not self._outbox

    async def _record_decision(
        self,
        kind: str,
        determination: str,
        automated: bool,
        *,
        reviewer: str | None = None,
        rationale: str | None = None,
        decision: Decision | None = None,
        reasons: list[dict[str, Any]] | None = None,
        trace: dict[str, Any] | None = None,
        policy: tuple[str, str] | None = None,
    ) -> None:
        s = self.s
        s.decision_seq += 1
        if policy is None:
            ref = decision.policy if decision else (s.decision.policy if s.decision else None)
            policy = (ref.id, ref.version) if ref else ("unknown", "unknown")
        await workflow.execute_activity_method(
            CaseStore.record_decision,
            RecordDecisionInput(
                decision_key=f"{s.case_id}:{kind}:{s.decision_seq}",
                case_id=s.case_id,
                request_id=s.request.request_id,
                kind=kind,
                determination=determination,
                automated=automated,
                reviewer_id=reviewer,
                rationale=rationale,
                decision=decision,
                reasons=reasons or [],
                trace=trace,
                policy_id=policy[0],
                policy_version=policy[1],
                urgency=s.request.urgency,
                line_of_business=s.request.line_of_business,
                received_at=s.request.received_at,
                decided_at=self._now(),
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"record {kind} decision: {determination}",
        )

    async def _project(self) -> None:
        s = self.s
        self._project_pending = False
        s.projection_version += 1
        period = s.period
        # Local, like claims: it follows every change; versioned, so a repeat is harmless.
        await workflow.execute_local_activity_method(
            CaseStore.project_authorization,
            AuthorizationProjection(
                case_id=s.case_id,
                request_id=s.request.request_id,
                member_ref=self._input.member_ref,
                version=s.projection_version,
                status=s.status,
                track=s.track,
                path=s.path,
                line_of_business=s.request.line_of_business,
                urgency=s.request.urgency,
                periods=self._period_terms(),
                renewals_used=s.renewals_used,
                cycles_started=s.cycles_started,
                units_authorized=s.units_authorized,
                units_paid=s.units_paid,
                period_end=period.end if period else None,
                escalated=s.escalated,
                received_at=s.request.received_at,
                updated_at=self._now(),
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"project case (v{s.projection_version}, {s.status})",
        )

    def _period_terms(self) -> list[PeriodTerms]:
        return [
            PeriodTerms(
                start=p.start,
                end=p.end,
                kind=p.kind,
                cycles=p.cycles,
                authorized_units=p.authorized_units,
            )
            for p in self.s.periods
        ]

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

    def _awaiting(self) -> str | None:
        s = self.s
        if self._finished:
            return None
        if s.status == "pended":
            return "facts: " + ", ".join(s.missing_facts)
        if s.review is not None:
            return f"{s.review.kind} review decision"
        if s.status == "denied":
            return "appeal (or the end of the appeal window)"
        if s.renewal_pending_info is not None:
            return "facts for the pended renewal"
        nxt = self._next_deadline()
        return nxt[1] if nxt else None

    def _refresh_ui(self) -> None:
        workflow.set_current_details(ui.current_details(self.s, self._awaiting()))

    @staticmethod
    def _describe_event(event: ClinicalEvent) -> str:
        detail = ""
        if event.toxicity is not None:
            detail = f": {event.toxicity.kind} grade {event.toxicity.grade}"
        elif event.response_assessment is not None:
            detail = f": {event.response_assessment.result} ({event.response_assessment.method})"
        elif event.cycle_started is not None:
            detail = f": cycle {event.cycle_started.cycle}"
        return f"{event.type} on {event.date}{detail}"
