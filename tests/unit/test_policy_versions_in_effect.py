"""Versions in effect (issue #17): each day of a drug decided by exactly one version."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.policy import PolicyInfo
from domain.policy_versions import (
    EffectiveRangeError,
    NoVersionInEffect,
    check_effective_ranges,
    select_version,
)
from tests.unit.policy_drafts import version

DRUG = "J9039"


def test_the_current_file_is_in_effect_from_its_approval_date(policy):
    assert policy.policy.effective_from == date(2025, 9, 4)
    assert policy.policy.effective_to is None
    assert select_version([policy], DRUG, date(2025, 9, 4)) is policy
    assert select_version([policy], DRUG, date(2031, 1, 1)) is policy
    with pytest.raises(NoVersionInEffect, match="in effect on 2025-09-03"):
        select_version([policy], DRUG, date(2025, 9, 3))


def test_a_version_effective_next_month_takes_over_on_its_effective_date(policy):
    nxt = version(policy, "2027-01-01", date(2027, 1, 1))
    both = [nxt, policy]
    check_effective_ranges(both)
    assert select_version(both, DRUG, date(2026, 12, 31)) is policy
    assert select_version(both, DRUG, date(2027, 1, 1)) is nxt
    assert select_version(both, DRUG, date(2027, 6, 1)) is nxt


def test_a_stated_end_followed_the_next_day_is_one_unbroken_run(policy):
    old = version(policy, "v1", date(2025, 9, 4), date(2026, 12, 31))
    nxt = version(policy, "v2", date(2027, 1, 1), date(2027, 12, 31))
    check_effective_ranges([old, nxt])
    assert select_version([old, nxt], DRUG, date(2026, 12, 31)) is old
    assert select_version([old, nxt], DRUG, date(2027, 12, 31)) is nxt
    with pytest.raises(NoVersionInEffect, match="2028-01-01"):
        select_version([old, nxt], DRUG, date(2028, 1, 1))


def test_overlapping_versions_of_one_drug_are_refused_naming_both(policy):
    old = version(policy, "v1", date(2025, 9, 4), date(2027, 1, 15))
    nxt = version(policy, "v2", date(2027, 1, 1))
    with pytest.raises(EffectiveRangeError, match=r"@v1 and .*@v2 overlap: 2027-01-15"):
        check_effective_ranges([nxt, old])
    with pytest.raises(EffectiveRangeError, match="both take effect 2027-01-01"):
        check_effective_ranges([version(policy, "a", date(2027, 1, 1)), nxt])


def test_a_gap_between_versions_is_refused_naming_the_days(policy):
    old = version(policy, "v1", date(2025, 9, 4), date(2026, 6, 30))
    nxt = version(policy, "v2", date(2026, 8, 1))
    with pytest.raises(EffectiveRangeError, match="gap: no version from 2026-07-01 to 2026-07-31"):
        check_effective_ranges([old, nxt])


def test_versions_of_different_drugs_do_not_meet(policy):
    other = version(policy, "v1", date(2025, 9, 4))
    other = other.model_copy(
        update={"billing": other.billing.model_copy(update={"hcpcs": ["J9999"]})}
    )
    check_effective_ranges([policy, other])
    assert select_version([policy, other], "J9999", date(2026, 1, 1)) is other
    with pytest.raises(NoVersionInEffect, match="J0000"):
        select_version([policy, other], "J0000", date(2026, 1, 1))


def test_an_end_before_the_start_is_refused_in_the_file(policy):
    data = policy.policy.model_dump()
    data.update(effective_from=date(2027, 1, 1), effective_to=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="effective_to is before"):
        PolicyInfo.model_validate(data)
