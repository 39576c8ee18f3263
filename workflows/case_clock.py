"""The case's business clock: days, deadlines and what falls due next.

Business time is ``workflow.now()`` shifted by the case's clock offset
(DESIGN.md, Temporal specifics: no other clock in a workflow), read in the
request's time zone; day 0 is the day the request was received. A period
covers its last day whole (POLICY.md, Section I); the renewal window opens
``N`` days before the period ends and reminders go out before the end
(POLICY.md, Section IV.2; DESIGN.md, How data flows, step 5). The next
deadline is the earliest of the pend deadline, the decision clock and its
escalation, the appeal window, the period's end, the renewal window and
reminders and the cycle boundary (DESIGN.md, Case statuses); an ended case
in its claims run-out has one: the run-out's end (POLICY.md, Claims run-out).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.models import TrackTerms
    from workflows.case_state import LIVE_STATUSES, CaseState, PeriodState
    from workflows.messages import CaseConfig


class CaseClock:
    """Business-day and deadline arithmetic of a case (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _config: CaseConfig

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

    @property
    def _max_renewals(self) -> int:
        """Section I: the renewals this case may have in all (its latest grant says, after
        prior cycles; a case granted before grants said so has the track's maximum)."""
        if self.s.max_renewals is not None:
            return self.s.max_renewals
        return self._terms.max_renewals if self._terms else 0

    def _renewal_possible(self) -> bool:
        """Section IV.1 and I: renewable, renewals left and cycles left after the last period."""
        s, terms = self.s, self._terms
        if terms is None or not terms.renewable or not s.periods:
            return False
        return (
            s.renewals_used < self._max_renewals and s.periods[-1].last_cycle < terms.total_cycles
        )

    def _next_deadline(self) -> tuple[datetime, str] | None:
        s = self.s
        if s.run_out_until is not None:
            until = s.run_out_until
            return (self._run_out_end_at(until), f"claims run-out ends ({until})")
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
