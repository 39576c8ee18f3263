"""Who did what comes from the credential, never from the body (README, Security).

Every actor field is the caller's subject: the reviewer of a decision or an
extension, the submitter of a request, facts, an appeal, a renewal or a
withdrawal, the system that sent a claim line or a clinical event. A body
field naming an actor is refused (422, unknown field). The tokens are one per
person or system (tests/api_tokens.py); the worker and the API run as the
runtime database role.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.api_tokens import API_TOKENS, auth, auth_as
from tests.e2e.conftest import claim_for, e2e_settings, make_request, today

#: A second token of the same person: a laptop and a workstation, one subject.
ANA_SECOND_TOKEN = "second-token-of-rph-ana".ljust(40, "z")


@pytest.fixture
def settings(task_queue: str):
    return e2e_settings(task_queue, api_tokens=f"{API_TOKENS},{ANA_SECOND_TOKEN}=rph-ana:reviewer")


async def _post(stack, case_id: str, action: str, body: dict, headers: dict):
    return await stack.http.post(f"/cases/{case_id}/{action}", json=body, headers=headers)


async def _notice_actors(stack, case_id: str, *kinds: str) -> dict[str, str | None]:
    """Whose message caused each notice (notices go out after the answer: polled)."""
    actors: dict[str, str | None] = {}
    for _ in range(100):
        rows = await stack.pool.fetch(
            "SELECT kind, actor FROM notifications WHERE case_id = $1", case_id
        )
        actors = {r["kind"]: r["actor"] for r in rows}
        if set(kinds) <= set(actors):
            break
        await asyncio.sleep(0.1)
    return actors


async def _decisions(stack, case_id: str) -> list[tuple]:
    rows = await stack.pool.fetch(
        "SELECT kind, determination, reviewer_id, actor FROM decisions WHERE case_id = $1 "
        "ORDER BY id",
        case_id,
    )
    return [tuple(r) for r in rows]


@pytest.mark.parametrize(
    ("action", "role", "body", "field"),
    [
        ("review", "reviewer", {"reviewer_id": "md-ben", "determination": "approve"},
         "reviewer_id"),
        ("extensions", "reviewer", {"reviewer_id": "md-ben", "days": 7, "rationale": "held"},
         "reviewer_id"),
        ("appeal", "intake", {"reason": "new data", "requested_by": "someone"}, "requested_by"),
        ("withdraw", "intake", {"requested_by": "someone"}, "requested_by"),
        ("renewals", "intake", {"facts": {}, "requested_by": "someone"}, "requested_by"),
        ("info", "intake", {"facts": {"diagnosis.mrd_percent": 0.4}, "source": "fax"}, "source"),
        ("info", "intake", {"facts": {"diagnosis.mrd_percent": 0.4}, "requested_by": "x"},
         "requested_by"),
    ],
)  # fmt: skip
async def test_a_body_naming_its_actor_is_refused_as_an_unknown_field(
    api_only, action, role, body, field
):
    r = await api_only.post(f"/cases/pa-ANY/{action}", json=body, headers=auth(role))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_a_forged_reviewer_id_is_refused_and_the_decision_carries_the_tokens_subject(
    stack,
):
    case_id = (await stack.submit(make_request(base="request-review.json")))["case_id"]
    assert await stack.wait_status(case_id, "in_review") == "in_review"

    forged = {"reviewer_id": "md-ben", "determination": "approve", "rationale": "as Ben"}
    r = await _post(stack, case_id, "review", forged, auth("reviewer"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reviewer_id"
    assert (await stack.case(case_id))["status"] == "in_review"

    r = await _post(stack, case_id, "review", {"determination": "approve"}, auth("reviewer"))
    assert r.status_code == 200, r.text
    assert await _decisions(stack, case_id) == [
        ("initial", "deny", None, "intake-desk"),  # the engine's recommendation, on intake's
        ("review", "approve", "rph-ana", "rph-ana"),
    ]
    assert (await _notice_actors(stack, case_id, "approval"))["approval"] == "rph-ana"
    case = await stack.case(case_id)
    assert [d["actor"] for d in case["decisions"]] == ["intake-desk", "rph-ana"]
    assert {n["kind"]: n["actor"] for n in case["notifications"]}["approval"] == "rph-ana"


async def test_the_same_person_cannot_decide_the_appeal_of_their_own_denial(stack):
    case_id = (await stack.submit(make_request(base="request-review.json")))["case_id"]
    assert await stack.wait_status(case_id, "in_review") == "in_review"
    deny = {"determination": "deny", "rationale": "not a listed use"}
    r = await _post(stack, case_id, "review", deny, auth_as("rph-ana"))
    assert r.status_code == 200 and r.json()["status"] == "denied"
    r = await _post(stack, case_id, "appeal", {"reason": "new data"}, auth("intake"))
    assert r.status_code == 200, r.text

    approve = {"determination": "approve", "rationale": "overturned"}
    # A variant spelling cannot even be written: the reviewer is not in the body ...
    variant = {**approve, "reviewer_id": "rph-ana "}
    r = await _post(stack, case_id, "review", variant, auth_as("rph-ana"))
    assert r.status_code == 422
    # ... and whichever of Ana's tokens she uses, the subject is hers.
    for headers in (auth_as("rph-ana"), {"Authorization": f"Bearer {ANA_SECOND_TOKEN}"}):
        r = await _post(stack, case_id, "review", approve, headers)
        assert r.status_code == 409, r.text
        assert "other than the one who denied" in r.json()["message"]
    r = await _post(stack, case_id, "review", approve, auth_as("md-ben"))
    assert r.status_code == 200 and r.json()["status"] == "active"

    assert await _decisions(stack, case_id) == [
        ("initial", "deny", None, "intake-desk"),
        ("review", "deny", "rph-ana", "rph-ana"),
        ("appeal", "approve", "md-ben", "md-ben"),
    ]
    actors = await _notice_actors(stack, case_id, "denial", "appeal_received", "approval")
    assert actors["denial"] == "rph-ana"
    assert actors["appeal_received"] == "intake-desk"
    assert actors["approval"] == "md-ben"


async def test_claims_events_and_a_withdrawal_record_who_sent_them(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    r = await stack.http.post(
        f"/cases/{case_id}/claims", json=claim_for(request), headers=auth("claims")
    )
    assert r.status_code == 200, r.text
    r = await stack.http.post(
        f"/cases/{case_id}/claims",
        json={**claim_for(request, line=2), "sent_by": "another-system"},
        headers=auth("claims"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sent_by"
    event = {"event_id": "EV-W1", "type": "weight", "date": today().isoformat(),
             "weight": {"weight_kg": 70.0, "height_cm": 170.0}}  # fmt: skip
    r = await stack.http.post(f"/cases/{case_id}/events", json=event, headers=auth("clinical"))
    assert r.status_code == 202
    r = await stack.http.post(
        f"/cases/{case_id}/events", json={**event, "sent_by": "x"}, headers=auth("clinical")
    )
    assert r.status_code == 422

    for _ in range(100):  # the signal is recorded by an activity
        sent = await stack.pool.fetchval(
            "SELECT sent_by FROM clinical_events WHERE case_id = $1", case_id
        )
        if sent:
            break
        await asyncio.sleep(0.1)
    assert sent == "clinical-system"
    assert (
        await stack.pool.fetchval("SELECT sent_by FROM claim_lines WHERE case_id = $1", case_id)
        == "claims-system"
    )

    r = await _post(stack, case_id, "withdraw", {"reason": "enrolled in a trial"}, auth("admin"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert (await _decisions(stack, case_id))[-1] == ("withdrawal", "withdrawn", None, "ops-admin")
    assert (await _notice_actors(stack, case_id, "withdrawn"))["withdrawn"] == "ops-admin"
