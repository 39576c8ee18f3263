"""Status transitions of a case (DESIGN.md, Case statuses).

Grant (the initial period on a track, its cycles numbered on from the
member's prior cycles, POLICY.md, Sections I and II), pend
(waiting for facts, POLICY.md, Section III), clinical review on a decision
clock by urgency and line of business, denial with its appeal window
(POLICY.md, Decision clocks and appeals), discontinuation and the case's end.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

from workflows.policy_refs import REF_CLOCKS, REF_PERIOD, first_reason, reason_payloads

with workflow.unsafe.imports_passed_through():
    from domain.clinical_event import ClinicalEvent
    from domain.decision import Authorization, Decision, Reason
    from domain.renewal import RenewalDecision
    from infra.temporal import AUTH_ESCALATED, AUTH_PERIOD_END, AUTH_RENEWALS_USED, AUTH_TRACK
    from workflows.case_state import (
        LIVE_STATUSES,
        CaseState,
        DiscontinuedFrom,
        PendingReview,
        PeriodState,
    )
    from workflows.messages import CaseConfig


class Transitions:
    """Moves a case between statuses (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _config: CaseConfig
    _finished: bool

    async def _grant(
        self, auth: Authorization, decision: Decision | None, reasons: list[Reason]
    ) -> None:
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
        workflow.upsert_search_attributes(
            [
                AUTH_TRACK.value_set(s.track or ""),
                AUTH_PERIOD_END.value_set(self._midnight(s.periods[-1].end)),
                AUTH_RENEWALS_USED.value_set(s.renewals_used),
            ]
        )
        self._log(
            "approved",
            f"approved on {s.track}: {auth.start} → {auth.end}, {auth.cycles} cycles "
            f"({auth.first_cycle}–{auth.last_cycle}), {auth.authorized_units} units",
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
                "reasons": reason_payloads(reasons),
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
        trace_key: str | None = None,
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
            renewal_decision=renewal.model_dump(mode="json", exclude={"trace"})
            if renewal
            else None,
            trace_key=trace_key,
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
                "reasons": reason_payloads(reasons),
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
        await self._set_status("denied", rationale or first_reason(reasons, "criteria not met"))
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

    async def _discontinue(self, event: ClinicalEvent) -> None:
        """Treatment stopped (death or discontinuation): claims after the date are denied."""
        s = self.s
        if s.status in LIVE_STATUSES:
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
            await self._set_status("discontinued", f"{event.type} reported for {event.date}")
            self._notify("discontinued", {"date": event.date.isoformat(), "reason": event.type})
        elif s.status in ("received", "pended", "in_review", "appealed", "denied"):
            self._close_review()
            await self._set_status("discontinued", f"{event.type} reported for {event.date}")
            self._notify("discontinued", {"date": event.date.isoformat(), "reason": event.type})
            self._finish(s.last_reason)

    def _finish(self, reason: str) -> None:
        """The case has ended: its run ends now, or after its claims run-out (run_out.py)."""
        self.s.last_reason = reason or self.s.last_reason
        self._log("closed", f"case closed: {self.s.status} ({reason})")
        if self._begin_run_out():
            self._changed()
            return
        self._end_run()

    def _end_run(self) -> None:
        self._finished = True
        self._refresh_ui()
        self._changed()
