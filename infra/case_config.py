"""The workflow's ``CaseConfig`` from Settings: workflows cannot read the environment.

Clocks and windows that are settings (DESIGN.md, Case statuses; POLICY.md,
Decision clocks and appeals). Policy terms (periods, cycles, units, the
renewal window of Section IV) are not here: they come from the policy data.
The timely-filing limits of claims run-out come from the policy data too; a
setting overrides one only when it is set.
"""

from __future__ import annotations

from datetime import datetime

from infra.settings import Settings
from workflows.messages import LINES_OF_BUSINESS, CaseConfig, DecisionClock


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def case_config(settings: Settings, *, clock_anchor: datetime | None = None) -> CaseConfig:
    """The clocks of every new case; ``clock_anchor`` only for simulations and tests."""
    clock = DecisionClock(
        standard_hours=settings.decision_clock_standard_hours,
        expedited_hours=settings.decision_clock_expedited_hours,
    )
    return CaseConfig(
        pend_deadline_days=settings.pend_deadline_days,
        decision_clocks={lob: clock for lob in LINES_OF_BUSINESS},
        escalate_before_hours=settings.escalate_before_hours,
        appeal_window_days={
            "commercial": settings.appeal_window_days_commercial,
            "medicaid": settings.appeal_window_days_medicaid,
            "medicare_advantage": settings.appeal_window_days_medicare_advantage,
        },
        timely_filing_days={
            lob: days
            for lob, days in {
                "commercial": settings.timely_filing_days_commercial,
                "medicaid": settings.timely_filing_days_medicaid,
                "medicare_advantage": settings.timely_filing_days_medicare_advantage,
            }.items()
            if days is not None
        },
        renewal_reminder_days=sorted(
            {int(d) for d in _csv(settings.renewal_reminder_days)}, reverse=True
        ),
        auto_deny_lines_of_business=_csv(settings.auto_deny_lines_of_business),
        clock_anchor=clock_anchor,
    )
