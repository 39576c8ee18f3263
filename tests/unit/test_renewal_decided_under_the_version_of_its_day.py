"""A renewal is decided under the version of its drug's policy in effect on the renewal
request's day (issue #17), which its decision names; a day no version covers keeps the
case's own version (activities/evaluation.py, ``EvaluationActivities.evaluate_renewal``)."""

from __future__ import annotations

from datetime import date

from activities.evaluation import EvaluationActivities
from domain.policy_registry import PolicyRegistry
from domain.renewal import RenewalInput
from tests.unit.factories import START, request
from tests.unit.policy_drafts import version

CURRENT_REF = "OHSU-HEALTHSERVICES-0382@2025-09-04"


def _renewal(as_of: date) -> RenewalInput:
    return RenewalInput(
        request=request("adult_rr"),
        track="relapsed_refractory",
        renewals_used=0,
        period_start=START,
        period_end=date(2027, 6, 30),
        as_of=as_of,
    )


def test_the_renewal_takes_the_version_in_effect_on_its_day(policy):
    nxt = version(policy, "2027-06-01", date(2027, 6, 1))
    activities = EvaluationActivities(PolicyRegistry([policy, nxt]))

    before = activities.evaluate_renewal(_renewal(date(2027, 5, 31)), CURRENT_REF)
    on_the_day = activities.evaluate_renewal(_renewal(date(2027, 6, 1)), CURRENT_REF)

    assert before.policy.version == "2025-09-04"
    assert on_the_day.policy.version == "2027-06-01"


def test_a_day_after_the_last_versions_stated_end_keeps_the_cases_version(policy):
    ended = version(policy, "2025-09-04", date(2025, 9, 4), date(2027, 5, 31))
    activities = EvaluationActivities(PolicyRegistry([ended]))

    decision = activities.evaluate_renewal(_renewal(date(2027, 6, 1)), CURRENT_REF)

    assert decision.policy.version == "2025-09-04"
