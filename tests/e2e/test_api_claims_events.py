"""POST /cases/{id}/claims (the answer in the response) and /events (202), and the
timeline picture built from what they left."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from infra.temporal import AUTH_STATUS
from tests.api_tokens import auth
from tests.e2e.conftest import claim_for, make_request, today


async def _claim(stack, case_id: str, body: dict):
    return await stack.http.post(f"/cases/{case_id}/claims", json=body, headers=auth("claims"))


async def _event(stack, case_id: str, body: dict):
    return await stack.http.post(f"/cases/{case_id}/events", json=body, headers=auth("clinical"))


async def test_a_claim_line_is_adjudicated_in_the_response(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    line = claim_for(request, units=63)
    r = await _claim(stack, case_id, line)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["status"], answer["allowed_units"], answer["denied_units"]) == ("paid", 63, 0)

    again = await _claim(stack, case_id, line)
    assert again.json() == answer  # the same line again: the first answer, nothing counted twice

    r = await _claim(stack, case_id, {**line, "reversal": True})
    assert r.status_code == 200 and r.json()["allowed_units"] == -63

    r = await _claim(stack, case_id, claim_for(request, line=2, hcpcs="J9041"))
    assert r.json()["status"] == "denied" and r.json()["carc_codes"] == ["15"]

    rows = await stack.pool.fetch(
        "SELECT line, reversal, allowed_units FROM claim_lines WHERE case_id = $1 ORDER BY id",
        case_id,
    )
    assert [(r["line"], r["reversal"], r["allowed_units"]) for r in rows] == [
        (1, False, 63),
        (1, True, -63),
        (2, False, 0),
    ]
    case = await stack.case(case_id)
    assert case["units"]["units_paid"] == 0
    assert len(case["units"]["claims"]) == 3


async def test_a_bad_claim_line_is_422_and_counts_nothing(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    bad = claim_for(request, units=-5, date_of_service="2026-02-30")
    del bad["claim_id"]
    r = await _claim(stack, case_id, bad)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"claim_id", "units", "date_of_service"}
    other_member = claim_for(request, member_id="M-SOMEONE-ELSE")
    r = await _claim(stack, case_id, other_member)
    assert r.status_code == 409, r.text
    assert "member" in r.json()["message"]
    assert await stack.pool.fetchval("SELECT count(*) FROM claim_lines") == 0


async def test_claims_and_events_for_an_unknown_case_are_404(api_only):
    request = make_request()
    r = await api_only.post(
        "/cases/pa-UNKNOWN/claims", json=claim_for(request), headers=auth("claims")
    )
    assert r.status_code == 404
    event = {"event_id": "EV-1", "type": "live_vaccine", "date": today().isoformat()}
    r = await api_only.post("/cases/pa-UNKNOWN/events", json=event, headers=auth("clinical"))
    assert r.status_code == 404


async def test_a_clinical_event_is_accepted_and_recorded(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    event = {
        "event_id": "EV-9",
        "type": "toxicity",
        "date": today().isoformat(),
        "toxicity": {"kind": "crs", "grade": 2},
    }
    r = await _event(stack, case_id, event)
    assert r.status_code == 202
    assert r.json() == {
        "case_id": case_id,
        "event_id": "EV-9",
        "accepted": True,
        "duplicate": False,
        "status": "active",
    }
    again = await _event(stack, case_id, event)
    assert again.status_code == 202 and again.json()["duplicate"]  # repeated ids are ignored
    for _ in range(50):
        rows = await stack.pool.fetch(
            "SELECT event_id, type FROM clinical_events WHERE case_id = $1", case_id
        )
        if rows:
            break
        await asyncio.sleep(0.2)
    assert [(r["event_id"], r["type"]) for r in rows] == [("EV-9", "toxicity")]


async def test_a_malformed_clinical_event_is_422(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    r = await _event(stack, case_id, {"event_id": "EV-1", "type": "toxicity", "date": "2026-12-01"})
    assert r.status_code == 422
    assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [
        ("toxicity", "Field required")
    ]
    r = await _event(
        stack,
        case_id,
        {"event_id": "EV-2", "type": "toxicity", "date": "2026-12-01",
         "toxicity": {"kind": "crs", "grade": 7}},
    )  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "toxicity.grade"


async def test_messages_to_an_ended_case_are_409(stack):
    request = make_request(line_of_business="medicare_part_b")
    case_id = (await stack.submit(request))["case_id"]
    assert await stack.wait_status(case_id, "not_applicable") == "not_applicable"
    for _ in range(50):
        desc = await stack.client.get_workflow_handle(case_id).describe()
        if desc.close_time:
            break
        await asyncio.sleep(0.2)
    r = await _claim(stack, case_id, claim_for(request))
    assert r.status_code == 409, r.text
    assert r.json()["case_status"] == "not_applicable"
    event = {"event_id": "EV-1", "type": "live_vaccine", "date": today().isoformat()}
    r = await _event(stack, case_id, event)
    assert r.status_code == 409


async def test_the_timeline_svg_shows_periods_cycles_claims_and_units(stack):
    start = today() - timedelta(days=50)
    request = make_request(start=start)
    case_id = (await stack.submit(request))["case_id"]
    for i, (day, units) in enumerate([(0, 259), (14, 392), (42, 392), (56, 392)], start=1):
        dos = (start + timedelta(days=day)).isoformat()
        line = claim_for(request, line=i, date_of_service=dos, units=units)
        r = await _claim(stack, case_id, line)
        assert r.json()["status"] == "paid", r.text
    r = await stack.http.get(f"/cases/{case_id}/timeline.svg", headers=auth("read-only"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    svg = r.text
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert case_id in svg and "relapsed_refractory" in svg
    assert svg.count("<circle") == 4
    assert "cycle 1" in svg and "cycle 2" in svg and "980 units / 42 days" in svg
    assert f"initial period {start}" in svg
    end = date.fromisoformat(request["service"]["requested_start"]) + timedelta(days=209)
    assert end.isoformat() in svg


# --- claims run-out (POLICY.md, Claims run-out) ------------------------------------------------


async def _closed(stack, case_id: str) -> None:
    for _ in range(100):
        desc = await stack.client.get_workflow_handle(case_id).describe()
        if desc.close_time:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{case_id} did not end")


async def test_a_late_claim_for_an_expired_case_in_its_run_out_is_adjudicated(stack):
    start = today() - timedelta(days=240)  # the period ended 31 days ago
    request = make_request(start=start)
    case_id = (await stack.submit(request))["case_id"]
    assert await stack.wait_status(case_id, "expired") == "expired"
    end = start + timedelta(days=209)

    late = claim_for(request, date_of_service=(end - timedelta(days=1)).isoformat(), units=35)
    r = await _claim(stack, case_id, late)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["allowed_units"]) == ("paid", 35)
    stale = claim_for(request, line=2, date_of_service=(start + timedelta(days=5)).isoformat())
    r = await _claim(stack, case_id, stale)  # 235 days after its date of service: commercial 180
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["carc_codes"]) == ("denied", ["29"])

    until = end + timedelta(days=180)
    case = await stack.case(case_id)
    assert (case["status"], case["summary"]["run_out_until"]) == ("expired", until.isoformat())
    in_run_out = (
        f'WorkflowId = "{case_id}" AND ExecutionStatus = "Running" '
        f'AND AuthRunOutUntil >= "{today().isoformat()}T00:00:00Z"'
    )
    assert await stack.workflow_count(in_run_out, within_s=10) == 1
    r = await stack.http.get("/cases", params={"status": "expired"}, headers=auth("read-only"))
    row = next(c for c in r.json()["cases"] if c["case_id"] == case_id)
    assert (row["run_out_until"], row["execution_status"]) == (until.isoformat(), "running")


async def test_a_claim_after_the_run_out_has_passed_is_409_naming_its_end(stack):
    start = today() - timedelta(days=600)  # period and run-out both long over
    request = make_request(start=start)
    case_id = (await stack.submit(request))["case_id"]
    await _closed(stack, case_id)  # at once: its run-out ended 211 days ago
    # (Read from visibility: a query in the moment a run ends can be lost by the SDK.)
    desc = await stack.client.get_workflow_handle(case_id).describe()
    assert desc.typed_search_attributes[AUTH_STATUS] == "expired"

    dos = (start + timedelta(days=200)).isoformat()
    r = await _claim(stack, case_id, claim_for(request, date_of_service=dos))

    assert r.status_code == 409, r.text
    body = r.json()
    until = start + timedelta(days=209 + 180)
    assert body["case_status"] == "expired"
    assert f"claims run-out ended {until}" in body["message"]
    assert "CARC 29" in body["message"]
    assert await stack.pool.fetchval("SELECT count(*) FROM claim_lines") == 0
