"""What falls due when a timer fires (DESIGN.md, Case statuses; How data flows, step 5).

The pend deadline sends the case to clinical review; decision clocks are
escalated before they run out (POLICY.md, Decision clocks and appeals); an
unused appeal window ends the case as denied; the renewal window opens and
reminders go out (POLICY.md, Section IV.2); at the period's end the next
period starts, or the case expires or completes (POLICY.md, Section I); at the
end of an ended case's claims run-out its run ends (POLICY.md, Claims run-out).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from workflows.policy_refs import REF_CLOCKS, REF_PERIOD, REF_RUN_OUT

with workflow.unsafe.imports_passed_through():
    from infra.temporal import AUTH_ESCALATED
    from workflows.case_state import LIVE_STATUSES, CaseState


class Deadlines:
    """Due processing of a case's clocks (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _finished: bool

    async def _process_due(self) -> None:
        s = self.s
        now = self._now()
        if s.run_out_until is not None:  # an ended case: only its run-out can fall due
            if self._run_out_over(now):
                self._log(
                    "run_out_ended",
                    f"claims run-out ended ({s.run_out_until}): no more claims are taken",
                    REF_RUN_OUT,
                )
                self._end_run()
            return
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
        while (
            not self._finished and s.run_out_until is None and now >= self._period_end_at(s.period)
        ):
            await self._end_period()
        if self._finished or s.run_out_until is not None or s.status not in LIVE_STATUSES:
            return
        await self._renewal_clock(now)
        self._cycle_boundary(now)

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
                    "max_renewals": self._max_renewals,
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
        payload = {
            "period_end": period.end.isoformat(),
            "cycles_total": s.cycles_started,
            "last_cycle": s.periods[-1].last_cycle,
        }
        if self._renewal_possible():
            await self._set_status("expired", "the period ended without a renewal")
            self._notify("expiry", payload)
        else:
            await self._set_status("completed", "the last allowed period ended")
            self._notify("completed", payload)
        self._finish(s.last_reason)
