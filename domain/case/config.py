"""The clocks and windows of a case that are settings (DESIGN.md, Case statuses).

POLICY.md, Decision clocks and appeals: the pend deadline, decision clocks by
line of business and urgency, escalation, appeal windows, renewal reminders,
automated denial by line of business; and overrides of the policy data's
timely-filing limits (POLICY.md, Claims run-out). Built from the case's policy
(``lines_of_business`` / ``case_defaults``) and Settings overrides by
``worker.case_config``; policy terms (periods, cycles, units, the renewal
window) come from the policy data, not from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

LINES_OF_BUSINESS = ("commercial", "medicaid", "medicare_advantage", "medicare_part_b")
#: POLICY.md's timely-filing defaults, for cases whose terms predate the policy data's.
TIMELY_FILING_FALLBACK_DAYS = {"commercial": 180, "medicaid": 365, "medicare_advantage": 365}


class DecisionClock(BaseModel):
    """Hours a reviewer has for a decision, by urgency (POLICY.md, Decision clocks)."""

    standard_hours: int
    expedited_hours: int


class CaseConfig(BaseModel):
    """The case clocks and windows, from the case's policy data and Settings overrides
    (workflows cannot read files or the environment).

    Built by ``worker.case_config(settings, policy)`` (the case client's
    ``case_config_for``); no defaults of its own for what the policy states. Policy
    terms (periods, cycles, units, the renewal window) come from the policy data
    through the activities, not from here.
    """

    pend_deadline_days: int
    decision_clocks: dict[str, DecisionClock]
    escalate_before_hours: int = 12
    appeal_window_days: dict[str, int]
    # Timely filing by line of business (POLICY.md, Claims run-out): overrides of the
    # policy data's limits (the case's TrackTerms); empty unless a setting is set.
    timely_filing_days: dict[str, int] = Field(default_factory=dict)
    renewal_reminder_days: list[int]
    auto_deny_lines_of_business: list[str] = Field(default_factory=list)
    max_appeals: int = 1
    notification_recipient: str = "prescriber"
    # Continue as new past this many events even without a renewal. A run stays small:
    # reading a case that has ended is a replay of its last run (every GET of it), and
    # a case answering hundreds of claim lines (about seven events each) would
    # otherwise make each such read take seconds.
    continue_as_new_after_events: int = 1000
    # The server time that stands for ``request.received_at`` (simulations and
    # time-skipping tests); None: the workflow clock is the business clock.
    clock_anchor: datetime | None = None

    def decision_clock(self, line_of_business: str, urgency: str) -> timedelta:
        clock = self.decision_clocks.get(line_of_business) or min(
            self.decision_clocks.values(), key=lambda c: c.standard_hours
        )
        hours = clock.expedited_hours if urgency == "expedited" else clock.standard_hours
        return timedelta(hours=hours)

    def timely_filing(self, line_of_business: str, policy_days: int | None) -> int:
        """The timely-filing limit in days: the setting's, else the policy data's, else (terms
        granted before the data carried it) POLICY.md's default for the line of business."""
        days = self.timely_filing_days.get(line_of_business, policy_days)
        if days is None:
            days = TIMELY_FILING_FALLBACK_DAYS.get(line_of_business, 365)
        return days

    def appeal_window(self, line_of_business: str) -> timedelta:
        days = self.appeal_window_days.get(line_of_business)
        if days is None:
            days = min(self.appeal_window_days.values(), default=60)
        return timedelta(days=days)
