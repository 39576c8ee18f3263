"""A reviewer extends a review's decision clock once, by 1-14 days, with a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.pa_items import items_requiring_pa
from domain.review_extension import (
    ExtensionRefused,
    ReviewExtensionRequest,
    extend_review_clock,
)
from tests.unit.policy_drafts import version

DUE = datetime(2026, 12, 4, 9, tzinfo=UTC)


def test_an_extension_moves_the_deadline_by_its_days_once():
    assert extend_review_clock(DUE, 14, already_extended=False) == DUE + timedelta(days=14)
    with pytest.raises(ExtensionRefused, match="already extended once"):
        extend_review_clock(DUE, 1, already_extended=True)
    with pytest.raises(ExtensionRefused, match="1 to 14 days"):
        extend_review_clock(DUE, 15, already_extended=False)
    with pytest.raises(ExtensionRefused, match="no review"):
        extend_review_clock(None, 3, already_extended=False)


def test_the_request_needs_days_within_14_and_a_reason():
    assert ReviewExtensionRequest.model_validate({"days": 7, "reason": "labs pending"}).days == 7
    for bad in ({"days": 0, "reason": "x"}, {"days": 15, "reason": "x"}, {"days": 3},
                {"days": "3", "reason": "x"}, {"days": 3, "reason": ""},
                {"days": 3, "reason": "x", "reviewer_id": "r"}):  # fmt: skip
        with pytest.raises(ValidationError):
            ReviewExtensionRequest.model_validate(bad)


def test_the_items_requiring_prior_authorization_follow_the_version_in_effect(policy):
    nxt = version(policy, "2027-01-01", date(2027, 1, 1))
    (today,) = items_requiring_pa([policy, nxt], date(2026, 12, 31))
    (later,) = items_requiring_pa([policy, nxt], date(2027, 1, 1))
    assert (today.hcpcs, today.policy) == ("J9039", "OHSU-HEALTHSERVICES-0382@2025-09-04")
    assert later.policy == "OHSU-HEALTHSERVICES-0382@2027-01-01"
    assert today.ndc_products == ("55513-0160",)
    assert items_requiring_pa([policy], date(2025, 1, 1)) == []
