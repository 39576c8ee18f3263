"""The clocks a new case starts with: from its policy's data, with Settings overrides.

Workflows cannot read files or the environment, so a case starts with its
clocks written out (``CaseInput.config``, ``domain.case.config.CaseConfig``).
They come from the case's policy data (DESIGN.md, Case statuses; POLICY.md,
Decision clocks and appeals): ``lines_of_business`` (decision hours by urgency,
appeal windows) and ``case_defaults`` (pend deadline, renewal reminders). A
setting overrides one only when it is set (``Settings``: ``None`` unless the
environment names it), as the timely-filing limits already did. Policy terms
(periods, cycles, units, the renewal window of Section IV, the timely-filing
limit itself) are not here: the case gets them from the policy data through its
activities.

The case client (``cases.client.CaseClient``) builds every new case's clocks
here, from the policy it picks for the request (``case_config_for``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain import policy_registry
from domain.case.config import CaseConfig, DecisionClock
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry
from domain.request import PARequest

if TYPE_CHECKING:
    from infra.settings import Settings


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _or(setting: int | None, policy_value: int) -> int:
    return policy_value if setting is None else setting


def policy_for(request: PARequest, policies: PolicyRegistry | None = None) -> Policy:
    """The policy a new case for ``request`` runs under: its drug's (``service.hcpcs``),
    the version in effect on its day of receipt. A drug none covers raises
    ``UnknownDrug``, a day after its last version's stated end ``NoVersionInEffect``."""
    registry = policies or policy_registry.default_registry()
    return registry.for_drug(request.service.hcpcs or "", request.received_at.date())


def case_config(
    settings: Settings, policy: Policy | None = None, *, clock_anchor: datetime | None = None
) -> CaseConfig:
    """The clocks of a new case under ``policy`` (module doc). ``policy`` defaults to the
    legacy Blincyto policy (a caller that has the request uses ``case_config_for``);
    ``clock_anchor`` only for simulations and tests."""
    if policy is None:
        policy = policy_registry.default_registry().resolve(None)
    lobs = policy.lines_of_business
    defaults = policy.case_defaults
    appeal_overrides = {
        "commercial": settings.appeal_window_days_commercial,
        "medicaid": settings.appeal_window_days_medicaid,
        "medicare_advantage": settings.appeal_window_days_medicare_advantage,
    }
    reminders = (
        [int(d) for d in _csv(settings.renewal_reminder_days)]
        if settings.renewal_reminder_days is not None
        else defaults.renewal_reminder_days_before_end
    )
    return CaseConfig(
        pend_deadline_days=_or(settings.pend_deadline_days, defaults.pend_deadline_days),
        decision_clocks={
            lob: DecisionClock(
                standard_hours=_or(
                    settings.decision_clock_standard_hours, rules.decision_hours["standard"]
                ),
                expedited_hours=_or(
                    settings.decision_clock_expedited_hours, rules.decision_hours["expedited"]
                ),
            )
            for lob, rules in lobs.items()
        },
        escalate_before_hours=settings.escalate_before_hours,
        appeal_window_days={
            lob: _or(appeal_overrides.get(lob), rules.appeal_window_days)
            for lob, rules in lobs.items()
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
        renewal_reminder_days=sorted(set(reminders), reverse=True),
        auto_deny_lines_of_business=_csv(settings.auto_deny_lines_of_business),
        clock_anchor=clock_anchor,
    )


def case_config_for(
    settings: Settings,
    request: PARequest,
    *,
    policies: PolicyRegistry | None = None,
    clock_anchor: datetime | None = None,
) -> CaseConfig:
    """The clocks of a new case for ``request``: under the version of its drug's policy in
    effect on its day of receipt (``policy_for``, the one the case client picks)."""
    return case_config(settings, policy_for(request, policies), clock_anchor=clock_anchor)


__all__ = ["case_config", "case_config_for", "policy_for"]
