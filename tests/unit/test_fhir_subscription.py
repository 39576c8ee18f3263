"""The PAS Subscription body and the notification, without a server (api/fhir/subscription.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interop.fhir.claim_response import ClaimContext
from interop.fhir.outcome import FhirError
from interop.fhir.subscription import accept, case_answer, notification
from tests.fhir_profiles import examples
from tests.fhir_subscriber import notified_response, review_action, subscription_body

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fhir" / "subscription.json"


def test_the_example_and_the_igs_own_subscription_are_accepted():
    ours = accept(json.loads(EXAMPLE.read_text()), allow_http=False)
    assert ours.org_identifiers == ["1619985643"]
    assert ours.endpoint.startswith("https://") and ours.headers
    assert "header" not in ours.resource["channel"]
    (ig,) = examples("Subscription").values()
    assert accept(ig, allow_http=True).org_identifiers == ["1234567893"]


def test_org_identifier_is_read_by_either_name_and_several_values():
    body = subscription_body("https://ehr.example/hook")
    body["_criteria"]["extension"][0]["valueString"] = "org-identifier=N123456,4543315"
    assert accept(body, allow_http=False).org_identifiers == ["4543315", "N123456"]


def test_plain_http_endpoints_are_refused_outside_dev_and_test():
    with pytest.raises(FhirError) as refused:
        accept(subscription_body("http://ehr.example/hook"), allow_http=False)
    assert refused.value.issues[0].expression == "Subscription.channel.endpoint"


def test_an_approval_notice_becomes_a_certified_claim_response_in_the_notification():
    ctx = ClaimContext(
        identifier_system=None,
        identifier_value="REQ-1",
        claim_reference=None,
        patient="Patient/member",
        insurer="Organization/plan",
        provider="Organization/clinic",
        claim_type=None,
        asked_units=4900,
    )
    payload = {"period_start": "2026-01-05", "period_end": "2026-07-04", "authorized_units": 4900}
    case = case_answer("pa-REQ-1", "approval", payload, None)
    response = notified_response(notification("s1", 7, ctx, case), "s1", 7)
    assert review_action(response) == "A1"
    fewer = case_answer("pa-REQ-1", "approval", {**payload, "authorized_units": 2940}, None)
    assert review_action(notified_response(notification("s1", 8, ctx, fewer), "s1", 8)) == "A6"
    denied = case_answer("pa-REQ-1", "denial", {"appeal_deadline": "2026-03-01"}, None)
    told = notified_response(notification("s1", 9, ctx, denied), "s1", 9)
    assert (
        review_action(told) == "A3" and "2026-03-01" in told["entry"][0]["resource"]["disposition"]
    )
