"""POST /cases, GET /cases/{id}, GET /cases: intake, reading a case and searching the queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from tests.api_tokens import auth
from tests.e2e.conftest import make_request, today


async def test_submitting_a_request_starts_one_case_and_answers_its_status(stack):
    request = make_request()
    body = await stack.submit(request, expect=201)
    case_id = f"pa-{request['request_id']}"
    assert body == {
        "case_id": case_id,
        "request_id": request["request_id"],
        "status": "active",
        "created": True,
    }
    desc = await stack.client.get_workflow_handle(case_id).describe()
    assert desc.workflow_type == "AuthorizationWorkflow"


async def test_submitting_the_same_request_id_again_starts_nothing(stack):
    request = make_request()
    first = await stack.submit(request, expect=201)
    handle = stack.client.get_workflow_handle(first["case_id"])
    again = await stack.submit(request, expect=200)
    assert again["case_id"] == first["case_id"] and again["created"] is False
    for _ in range(5):
        await stack.submit(request, expect=200)
    # A repeat of a decided case is refused unwritten: the only update in the case's
    # history is the first submission's (accepted and completed).
    history = (await handle.fetch_history()).events
    updates = [e for e in history if "UPDATE" in EventType.Name(e.event_type)]
    assert len(updates) == 2, [EventType.Name(e.event_type) for e in updates]
    query = f"WorkflowId = '{first['case_id']}'"
    assert await stack.workflow_count(query, within_s=5) == 1


async def test_concurrent_submissions_of_one_request_id_make_one_case_and_one_201(stack):
    """Update-with-start races: the submission whose start made the case is new, no other."""
    request = make_request()
    answers = await asyncio.gather(
        *(stack.http.post("/cases", json=request, headers=auth("intake")) for _ in range(4))
    )
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
    bodies = [r.json() for r in answers]
    assert [b["created"] for b in bodies].count(True) == 1
    assert {(b["case_id"], b["status"]) for b in bodies} == {
        (f"pa-{request['request_id']}", "active")
    }
    query = f"WorkflowId = 'pa-{request['request_id']}'"
    assert await stack.workflow_count(query, within_s=5) == 1


async def test_the_submission_answers_with_the_first_decision_whatever_it_is(stack):
    """No polling: the update-with-start returns once the case has left ``received``."""
    pended = await stack.submit(make_request(base="request-pend.json"), expect=201)
    review = await stack.submit(make_request(base="request-review.json"), expect=201)
    assert (pended["status"], review["status"]) == ("pended", "in_review")


async def test_a_repeated_submission_of_an_ended_case_answers_it_as_it_ended(stack):
    """Medicare Part B is answered "not applicable" and the case ends; its id is not reused."""
    request = make_request(line_of_business="medicare_part_b")
    first = await stack.submit(request, expect=201)
    assert first["status"] == "not_applicable" and first["created"] is True
    case_id = first["case_id"]
    handle = stack.client.get_workflow_handle(case_id)
    for _ in range(100):
        if (await handle.describe()).status.name == "COMPLETED":
            break
        await asyncio.sleep(0.1)
    again = await stack.submit(request, expect=200)
    assert again == {**first, "created": False}
    assert await stack.workflow_count(f"WorkflowId = '{case_id}'", within_s=5) == 1


async def test_an_invalid_request_is_422_field_by_field_and_starts_nothing(stack):
    request = make_request()
    request["member"]["date_of_birth"] = "1980-13-45"
    request["line_of_business"] = "cash"
    request["diagnosis"]["mrd_percent"] = 140
    request["unexpected"] = True
    r = await stack.http.post("/cases", json=request, headers=auth("intake"))
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(fields) == {
        "member.date_of_birth",
        "line_of_business",
        "diagnosis.mrd_percent",
        "unexpected",
    }
    assert "commercial" in fields["line_of_business"]
    assert "1980-13-45" not in r.text  # inputs are not echoed back (PHI)
    case_id = f"pa-{request['request_id']}"
    assert await stack.workflow_count(f"WorkflowId = '{case_id}'") == 0
    assert await stack.pool.fetchval("SELECT count(*) FROM authorizations") == 0
    assert await stack.pool.fetchval("SELECT count(*) FROM decisions") == 0


async def test_a_body_that_is_not_json_is_400(stack):
    """RFC 9110: 422 is for content whose syntax is right; a body that is not JSON is a 400."""
    r = await stack.http.post(
        "/cases",
        content=b"{not json",
        headers={**auth("intake"), "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"


async def test_reading_a_case_shows_status_periods_units_decisions_and_notices(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    assert await stack.wait_status(case_id, "active") == "active"
    case = await stack.case(case_id)
    assert case["case_id"] == case_id and case["request_id"] == request["request_id"]
    assert case["summary"]["track"] == "relapsed_refractory"
    period = case["periods"]["periods"][0]
    assert period["start"] == request["service"]["requested_start"]
    assert period["kind"] == "initial" and period["cycles"] == 5
    assert case["units"]["units_authorized"] == 4900
    assert [d["determination"] for d in case["decisions"]] == ["approve"]
    assert case["decisions"][0]["policy_id"] == "OHSU-HEALTHSERVICES-0382"
    assert "approval" in [n["kind"] for n in case["notifications"]]
    assert [c["status"] for c in case["status_changes"]][:2] == ["received", "active"]
    assert "Ada" not in str(case) and "1980-04-02" not in str(case)


async def test_an_unknown_case_is_404(stack):
    for path in ("/cases/pa-NOPE-404", "/cases/pa-NOPE-404/timeline.svg", "/cases/nothing"):
        r = await stack.http.get(path, headers=auth("reviewer"))
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"


async def test_cases_are_listed_by_status_track_and_period_end(stack):
    active = make_request()
    pended = make_request(base="request-pend.json")
    a = (await stack.submit(active))["case_id"]
    p = (await stack.submit(pended))["case_id"]
    assert await stack.wait_status(p, "pended") == "pended"

    async def listed(**params) -> list[str]:
        for _ in range(50):
            r = await stack.http.get("/cases", params=params, headers=auth("read-only"))
            assert r.status_code == 200, r.text
            ids = [c["case_id"] for c in r.json()["cases"]]
            if a in ids or p in ids:
                return ids
            await asyncio.sleep(0.2)
        return []

    by_status = await listed(status="active", track="relapsed_refractory")
    assert a in by_status and p not in by_status
    assert p in await listed(status="pended")
    end_soon = (today() + timedelta(days=400)).isoformat()
    in_window = await listed(status="active", period_end_before=end_soon)
    assert a in in_window
    r = await stack.http.get("/cases", params={"status": "active"}, headers=auth("read-only"))
    row = next(c for c in r.json()["cases"] if c["case_id"] == a)
    assert row["track"] == "relapsed_refractory" and row["escalated"] is False
    assert row["period_end"] is not None


async def test_a_bad_filter_is_422_and_never_reaches_the_query(stack):
    bad = {
        "status": "active' OR 1=1",
        "track": 'x" OR AuthStatus="denied',
        "escalated": "perhaps",
        "period_end_before": "tomorrow",
        "limit": "0",
    }
    r = await stack.http.get("/cases", params=bad, headers=auth("read-only"))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == set(bad)
