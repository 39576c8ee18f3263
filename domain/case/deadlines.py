"""The one list of a case's clocks, derived from its state (DESIGN.md, Case statuses).

Every deadline a case can have is here, and nowhere else:

- ``pend_deadline``: facts not received in time go to clinical review (POLICY.md,
  Section III; DESIGN.md: 14 days by default);
- ``escalation`` and ``decision_clock``: a review is escalated before its decision
  clock runs out, and marked overdue when it has (POLICY.md, Decision clocks and appeals);
- ``appeal_window``: an unused appeal window ends the case as denied;
- ``period_end``: at the midnight after a period's last day the next period starts, or
  the case expires or completes (Section I);
- ``renewal_window`` and ``renewal_reminder``: the window opens ``N`` days before the
  period ends, reminders go out before the end (Section IV.2);
- ``cycle_boundary``: the current cycle's planned length is over (Section I);
- ``run_out_end``: an ended case's claims run-out is over (POLICY.md, Claims run-out);
  while it runs, it is the case's only deadline.

The workflow arms one timer for the earliest (``next_deadline``); when it fires,
``CaseAggregate.on_due`` handles the ones ``due`` (earliest first, ties in the order
above) from this same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, get_args

from domain.case.config import CaseConfig
from domain.case.state import CaseState, PeriodState

DeadlineKind = Literal[
    "run_out_end",
    "pend_deadline",
    "escalation",
    "decision_clock",
    "appeal_window",
    "period_end",
    "renewal_window",
    "renewal_reminder",
    "cycle_boundary",
]
#: Ties at the same instant are handled in this order.
ORDER: tuple[DeadlineKind, ...] = get_args(DeadlineKind)


@dataclass(frozen=True)
class Deadline:
    """One clock of the case: when, what, a label (the timer's summary) and its number
    (the reminder's days before the end, the cycle's number)."""

    at: datetime
    kind: DeadlineKind
    label: str
    n: int = 0

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return self.at, ORDER.index(self.kind)


def reminders_due(
    state: CaseState, config: CaseConfig, period: PeriodState, opens: date
) -> list[tuple[int, datetime]]:
    """The renewal reminders not sent yet: (days before the end, when)."""
    return [
        (days, state.midnight(max(opens, period.end - timedelta(days=days))))
        for days in config.renewal_reminder_days
        if state.notice_key("renewal_reminder", days) not in state.notices_sent
    ]


def run_out_end_at(state: CaseState, until: date) -> datetime:
    """The run-out's last day is over at the midnight after it."""
    return state.midnight(until + timedelta(days=1))


def deadlines(state: CaseState, config: CaseConfig) -> list[Deadline]:
    """Every clock the case runs now, from its state alone."""
    s = state
    if s.run_out_until is not None:
        until = s.run_out_until
        return [Deadline(run_out_end_at(s, until), "run_out_end", f"claims run-out ends ({until})")]
    found: list[Deadline] = []
    if s.status == "pended" and s.pend_deadline is not None:
        found.append(
            Deadline(
                s.pend_deadline, "pend_deadline", "pend deadline: facts not received -> review"
            )
        )
    if s.review is not None:
        if not s.escalated:
            found.append(
                Deadline(s.review.escalate_at, "escalation", f"{s.review.kind} review: escalation")
            )
        elif not s.review.overdue:
            found.append(
                Deadline(
                    s.review.due_at, "decision_clock", f"{s.review.kind} review: decision clock"
                )
            )
    if s.status == "denied" and s.appeal_deadline is not None:
        found.append(Deadline(s.appeal_deadline, "appeal_window", "appeal window closes"))
    period = s.period
    if period is None or not (s.live or s.status == "discontinued"):
        return found
    found.append(
        Deadline(
            s.period_end_at(period),
            "period_end",
            f"period {s.period_index + 1} ends ({period.end})",
        )
    )
    if not s.live:
        return found
    if s.period_index == len(s.periods) - 1:
        opens = s.window_opens(period)
        if opens is not None:
            if s.status == "active":
                found.append(
                    Deadline(s.midnight(opens), "renewal_window", f"renewal window opens {opens}")
                )
            found += [
                Deadline(
                    when, "renewal_reminder", f"renewal reminder, {days} days before the end", days
                )
                for days, when in reminders_due(s, config, period, opens)
            ]
    if s.cycles:
        last = s.cycles[-1]
        if last.cycle not in s.boundaries_logged and last.cycle_days:
            found.append(
                Deadline(
                    s.midnight(last.next_start),
                    "cycle_boundary",
                    f"cycle {last.cycle} boundary",
                    last.cycle,
                )
            )
    return found


def next_deadline(state: CaseState, config: CaseConfig) -> Deadline | None:
    """The earliest clock: the one the workflow's timer waits for."""
    return min(deadlines(state, config), key=lambda d: d.sort_key, default=None)


def due(state: CaseState, config: CaseConfig, now: datetime) -> Deadline | None:
    """The earliest clock that has fallen due by ``now``, if any."""
    ready = [d for d in deadlines(state, config) if d.at <= now]
    return min(ready, key=lambda d: d.sort_key, default=None)
