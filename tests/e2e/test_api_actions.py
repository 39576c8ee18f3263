"""Case actions as Temporal updates: info, review, appeal, withdraw, renewals, extensions.

Each answers the update's result (200), a refusal in the case's current state
as 409 with the reason, bad input as 422 by field, an unknown case as 404.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.api_tokens import auth, auth_as
from tests.e2e.conftest import make_request, today

ACTIONS = [
    ("info", "intake", {"facts": {"diagnosis.mrd_percent": 0.4}}),
    ("review", "reviewer", {"determination": "approve"}),
    ("appeal", "intake", {"reason": "new evidence"}),
    ("withdraw", "intake", {"reason": "no longer needed"}),
    ("renewals", "intake", {"facts": {}}),
    ("extensions", "reviewer", {"days": 14, "rationale": "paused"}),
]


async def _post(stack, case_id: str, action: str, role: str, body: dict, *, subject=None):
    headers = auth_as(subject) if subject else auth(role)
    return await stack.http.post(f"/cases/{case_id}/{action}", json=body, headers=headers)


async def test_an_action_on_an_unknown_case_is_404(api_only):
    for action, role, body in ACTIONS:
        r = await api_only.post(f"/cases/pa-NO-SUCH-CASE/{action}", json=body, headers=auth(role))
        assert r.status_code == 404, (action, r.text)
        assert r.json() == {"error": "not_found", "message": "no case pa-NO-SUCH-CASE"}


async def test_info_settles_a_pended_case(stack):
    case_id = (await stack.submit(make_request(base="request-pend.json")))["case_id"]
    assert await stack.wait_status(case_id, "pended") == "pended"
    case = await stack.case(case_id)
    assert case["summary"]["missing_facts"] == ["diagnosis.mrd_percent"]

    r = await _post(stack, case_id, "info", "intake", {"facts": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "facts"
    r = await _post(stack, case_id, "info", "intake", {"facts": {"x": 1}, "extra": 1})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"facts.x", "extra"}
    r = await _post(stack, case_id, "info", "intake", {"facts": {"diagnosis.mrd_percent": "lots"}})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "facts.diagnosis.mrd_percent"  # named, not echoed
    assert "lots" not in r.text
    assert r.json()["errors"][0]["message"] == "Input should be a number (a JSON number)"
    assert (await stack.case(case_id))["status"] == "pended"

    r = await _post(stack, case_id, "info", "intake", {"facts": {"diagnosis.mrd_percent": 0.4}})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] is True and r.json()["status"] == "active"
    assert r.json()["determination"] == "approve"

    r = await _post(stack, case_id, "info", "intake", {"facts": {"diagnosis.mrd_percent": 0.5}})
    assert r.status_code == 409
    assert r.json()["case_status"] == "active" and "active" in r.json()["message"]


async def test_a_reviewer_denies_then_the_appeal_goes_to_another_reviewer(stack):
    case_id = (await stack.submit(make_request(base="request-review.json")))["case_id"]
    assert await stack.wait_status(case_id, "in_review") == "in_review"

    r = await _post(stack, case_id, "review", "reviewer", {"determination": "maybe"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "determination"
    r = await _post(stack, case_id, "appeal", "intake", {"reason": "too soon"})
    assert r.status_code == 409 and r.json()["case_status"] == "in_review"

    deny = {"determination": "deny", "rationale": "not a listed use"}
    r = await _post(stack, case_id, "review", "reviewer", deny)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "denied" and r.json()["determination"] == "deny"

    r = await _post(stack, case_id, "appeal", "intake", {"reason": "E1910 blocks"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] is True and r.json()["appeal_deadline"]
    case = await stack.case(case_id)
    assert "appealed" in [c["status"] for c in case["status_changes"]]
    assert case["summary"]["review_kind"] == "appeal"

    r = await _post(stack, case_id, "review", "reviewer", deny)  # the same reviewer
    assert r.status_code == 409 and "other than" in r.json()["message"]
    approve = {"determination": "approve", "rationale": "overturned"}
    r = await _post(stack, case_id, "review", "reviewer", approve, subject="md-ben")
    assert r.status_code == 200 and r.json()["status"] == "active"
    kinds = [(d["kind"], d["determination"]) for d in (await stack.case(case_id))["decisions"]]
    assert ("review", "deny") in kinds and ("appeal", "approve") in kinds


async def test_a_withdrawn_case_takes_no_more_messages(stack):
    case_id = (await stack.submit(make_request(base="request-pend.json")))["case_id"]
    assert await stack.wait_status(case_id, "pended") == "pended"
    r = await _post(stack, case_id, "withdraw", "intake", {"reason": "trial", "oops": 1})
    assert r.status_code == 422
    r = await _post(stack, case_id, "withdraw", "intake", {"reason": "enrolled in a trial"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert await stack.wait_status(case_id, "withdrawn") == "withdrawn"
    r = await _post(stack, case_id, "withdraw", "intake", {})
    assert r.status_code == 409, r.text
    assert r.json()["case_status"] == "withdrawn"


async def test_a_renewal_before_the_window_is_409_with_the_date_it_opens(stack):
    case_id = (await stack.submit(make_request()))["case_id"]
    r = await _post(stack, case_id, "renewals", "intake", {"facts": {}})
    assert r.status_code == 409, r.text
    opens = (today() + timedelta(days=209 - 30)).isoformat()
    assert opens in r.json()["message"]
    r = await _post(stack, case_id, "renewals", "intake", {"facts": {"nope.nothing": 1}})
    assert r.status_code == 422, r.text


async def test_a_renewal_in_the_window_with_a_response_documented_is_approved(stack):
    start = today() - timedelta(days=190)
    request = make_request(start=start)
    case_id = (await stack.submit(request))["case_id"]
    assert await stack.wait_status(case_id, "renewal_window") == "renewal_window"
    event = {
        "event_id": "EV-R1",
        "type": "response_assessment",
        "date": (start + timedelta(days=180)).isoformat(),
        "response_assessment": {"result": "complete_response", "method": "bone_marrow"},
    }
    r = await stack.http.post(f"/cases/{case_id}/events", json=event, headers=auth("clinical"))
    assert r.status_code == 202
    r = await _post(stack, case_id, "renewals", "intake", {"facts": {}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] and body["determination"] == "approve"
    assert body["period"]["kind"] == "renewal"
    assert body["period"]["start"] == (start + timedelta(days=210)).isoformat()
    case = await stack.case(case_id)
    assert case["summary"]["renewals_used"] == 1
    assert [p["kind"] for p in case["periods"]["periods"]] == ["initial", "renewal"]


async def test_a_reviewer_extends_an_active_period(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    body = {"days": 0, "rationale": "paused"}
    r = await _post(stack, case_id, "extensions", "reviewer", body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "days"
    body["days"] = 14
    r = await _post(stack, case_id, "extensions", "reviewer", body)
    assert r.status_code == 200, r.text
    end = date.fromisoformat(request["service"]["requested_start"]) + timedelta(days=209 + 14)
    assert r.json()["period_end"] == end.isoformat()


async def test_an_extension_of_a_case_without_a_period_is_409(stack):
    case_id = (await stack.submit(make_request(base="request-pend.json")))["case_id"]
    assert await stack.wait_status(case_id, "pended") == "pended"
    body = {"days": 7, "rationale": "paused"}
    r = await _post(stack, case_id, "extensions", "reviewer", body)
    assert r.status_code == 409 and r.json()["case_status"] == "pended"
