"""Bad input through the API: refused field by field, never a 5xx, nothing started or changed.

Property-based (Hypothesis): valid bodies with one to three fields removed,
replaced by any JSON value or added, and plain junk. Every invalid body must
get a 422 in the API's error shape naming exactly the fields the route's
model rejects, with no traceback; a request must start no case, and a claim,
clinical event or action must leave the live case's history and its rows in
PostgreSQL as they were.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from temporalio.service import RPCError, RPCStatusCode

from tests.api_tokens import auth
from tests.fuzz.conftest import ROLE_OF_ROUTE, Api, LiveCase
from tests.fuzz.fuzz_inputs import (
    ACTIONS,
    EVENT_BODIES,
    JSON,
    REQUESTS,
    ClaimLine,
    ClinicalEventBody,
    PARequest,
    expected_fields,
    is_field_error_body,
    mutated,
)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
#: Integer edges of the stores a claim goes through (SQL integer, bigint).
BOUNDARIES = [0, 1, 980, 2**31 - 1, 2**31, 2**63 - 1, 2**63]
TRACEBACK_MARKS = ("Traceback", 'File "', "Error:", "\n  ")


def assert_refused_by_field(response, expected: set[str]) -> None:
    assert response.status_code == 422, response.text
    data = response.json()
    assert is_field_error_body(data), data
    assert {e["field"] for e in data["errors"]} == expected, data
    assert not any(mark in response.text for mark in TRACEBACK_MARKS), response.text


async def test_invalid_requests_are_refused_by_field_and_start_no_case(api: Api):
    seen_ids: list[str] = []

    @FUZZ
    @given(body=REQUESTS)
    def check(body: Any) -> None:
        expected = expected_fields(PARequest, body)
        assume(expected is not None)
        assert_refused_by_field(api.post("/cases", body, role="intake"), expected)
        if isinstance(body, dict) and isinstance(body.get("request_id"), str):
            seen_ids.append(body["request_id"])

    await api.run_examples(check)
    assert await api.workflow_count() == 0
    for request_id in {*seen_ids, "FUZZ-1"}:
        with pytest.raises(RPCError) as err:
            await api.client.get_workflow_handle(f"pa-{request_id}").describe()
        assert err.value.status == RPCStatusCode.NOT_FOUND


async def test_junk_bodies_anywhere_get_a_4xx_in_the_error_shape_never_a_5xx(api: Api):
    routes = ["/cases", *(f"/cases/pa-FUZZ-NONE/{suffix}" for suffix in ROLE_OF_ROUTE)]

    @FUZZ
    @given(
        route=st.sampled_from(routes),
        body=JSON | st.binary(max_size=64).map(lambda b: b"\xff" + b),
    )
    def check(route: str, body: Any) -> None:
        response = api.post(route, body)
        assert 400 <= response.status_code < 500, (route, body, response.text)
        data = response.json()
        assert isinstance(data.get("error"), str) and isinstance(data.get("message"), str)
        assert not any(mark in response.text for mark in TRACEBACK_MARKS), response.text

    await api.run_examples(check)
    assert await api.workflow_count() == 0


async def test_invalid_claims_events_and_actions_are_refused_and_change_nothing(
    live_case: LiveCase,
):
    api = live_case.api
    before = await live_case.footprint()
    base = f"/cases/{live_case.case_id}"

    @FUZZ
    @given(body=mutated(live_case.claim()))
    def claims(body: Any) -> None:
        expected = expected_fields(ClaimLine, body)
        assume(expected is not None)
        assert_refused_by_field(api.post(f"{base}/claims", body, role="claims"), expected)

    @FUZZ
    @given(body=EVENT_BODIES)
    def events(body: Any) -> None:
        expected = expected_fields(ClinicalEventBody, body)
        assume(expected is not None)
        assert_refused_by_field(api.post(f"{base}/events", body, role="clinical"), expected)

    @FUZZ
    @given(data=st.data(), action=st.sampled_from(sorted(ACTIONS)))
    def actions(data: st.DataObject, action: str) -> None:
        model, valid, no_body_ok = ACTIONS[action]
        body = data.draw(mutated(valid))
        expected = expected_fields(model, body)
        assume(expected is not None and not (body is None and no_body_ok))
        response = api.post(f"{base}/{action}", body, role=ROLE_OF_ROUTE[action])
        assert_refused_by_field(response, expected)

    for check in (claims, events, actions):
        await api.run_examples(check)
    assert await live_case.footprint() == before
    case = await api.http.get(base, headers=auth("read-only"))
    assert case.json()["status"] == "active"
    assert case.json()["units"]["units_paid"] == 0


async def test_claims_with_odd_values_get_an_answer_or_a_refusal_never_a_5xx(
    live_case: LiveCase, monkeypatch
):
    """Well-formed claim lines with odd values are answered by the case, never a 5xx.

    A line the ledger cannot store would leave its activity failing on every
    retry and the case unable to answer: the API waits ANSWER_TIMEOUT (cut to
    8 s here) and answers 504. No shrinking: the first such line fails the test.
    """
    from cases import client as case_client

    monkeypatch.setattr(case_client, "ANSWER_TIMEOUT", timedelta(seconds=8))
    api = live_case.api
    base = f"/cases/{live_case.case_id}/claims"

    @settings(FUZZ, max_examples=25, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    @given(
        units=st.integers(min_value=0, max_value=2**40) | st.sampled_from(BOUNDARIES),
        line=st.integers(min_value=1, max_value=2**40) | st.sampled_from(BOUNDARIES[1:]),
        day=st.dates(),
        hcpcs=st.sampled_from(["J9039", "J9999", "", "j9039"]),
        ndc=st.sampled_from([None, "55513-0160-01", "55513016001", "00000-0000-00", "x"]),
        modifiers=st.lists(st.sampled_from(["JW", "JZ", "XX", ""]), max_size=3),
        other_member=st.booleans(),
    )
    def check(units, line, day, hcpcs, ndc, modifiers, other_member) -> None:
        body = live_case.claim(
            claim_id=f"CLM-ODD-{line}", line=line, units=units, date_of_service=day.isoformat(),
            hcpcs=hcpcs, ndc=ndc, modifiers=modifiers,
            member_id="M-SOMEONE-ELSE" if other_member else live_case.member_id,
        )  # fmt: skip
        response = api.post(base, body, role="claims")
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            answer = response.json()
            assert answer["status"] in ("paid", "partially_paid", "denied")
            assert answer["allowed_units"] + answer["denied_units"] == units
        else:
            assert response.status_code in (409, 422), response.text
            assert isinstance(response.json().get("message"), str)

    await api.run_examples(check)
