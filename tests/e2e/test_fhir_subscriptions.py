"""FHIR Subscriptions on the real stack (API -> Temporal -> worker -> PostgreSQL): who is
notified of a decision, how often, through an endpoint that is down at first, and what
a Subscription body must be."""

from __future__ import annotations

import asyncio
import json

from examples.fhir_bundles import pas_bundle
from tests.api_tokens import auth
from tests.e2e.conftest import make_request
from tests.fhir_subscriber import (
    notified_response,
    review_action,
    subscriber,
    subscription_body,
)

FHIR = {"Content-Type": "application/fhir+json"}


def headers(role: str = "intake") -> dict[str, str]:
    return {**auth(role), **FHIR}


async def subscribe(stack, body: dict, role: str = "intake") -> dict:
    r = await stack.http.post("/fhir/Subscription", json=body, headers=headers(role))
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith(f"/fhir/Subscription/{r.json()['id']}")
    return r.json()


async def submit(stack, bundle: dict) -> dict:
    r = await stack.http.post("/fhir/Claim/$submit", json=bundle, headers=headers())
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_reviewer_decision_reaches_a_subscriber_that_was_down_once_and_no_one_else(
    stack,
):
    """The subscriber answers 503 twice: the notifier retries with backoff and the third
    attempt delivers it, once. Another organization's subscription, another submitter's
    and one turned off get nothing; a case answered at once notifies nobody."""
    with (
        subscriber(fail_first=2) as down_at_first,
        subscriber() as other_org,
        subscriber() as other_owner,
        subscriber() as turned_off,
    ):
        sub = await subscribe(stack, subscription_body(down_at_first.url))
        await subscribe(stack, subscription_body(other_org.url, org="1999999984"))
        await subscribe(stack, subscription_body(other_owner.url), role="admin")
        off = await subscribe(stack, subscription_body(turned_off.url))
        r = await stack.http.delete(f"/fhir/Subscription/{off['id']}", headers=auth("intake"))
        assert r.status_code == 204

        at_once = make_request()
        assert review_action(await submit(stack, pas_bundle(at_once))) == "A1"

        request = make_request(base="request-review.json")
        answer = await submit(stack, pas_bundle(request))
        assert review_action(answer) == "A4"  # in clinical review
        case_id = answer["entry"][0]["resource"]["preAuthRef"]
        r = await stack.http.post(
            f"/cases/{case_id}/review",
            json={"determination": "deny", "rationale": "not a listed use"},
            headers=auth("reviewer"),
        )
        assert r.status_code == 200, r.text

        (got,) = await down_at_first.wait_for(1)
        await asyncio.sleep(1.5)  # nothing more comes, to anyone
        assert [a["answered"] for a in down_at_first.attempts] == [503, 503, 200]
        assert other_org.attempts == other_owner.attempts == turned_off.attempts == []

    keys = {a["headers"]["Idempotency-Key"] for a in down_at_first.attempts}
    assert len(keys) == 1  # one notification, attempted three times
    notified = notified_response(got["body"], sub["id"], 1)
    assert review_action(notified) == "A3"
    told = notified["entry"][0]["resource"]
    assert told["preAuthRef"] == case_id and "appeal" in told["disposition"]
    assert request["member"]["last_name"] not in json.dumps(got["body"])
    rows = await stack.pool.fetch(
        "SELECT key, case_id, status, attempts FROM notifications WHERE kind = 'fhir_subscription'"
    )
    assert [(r["key"], r["case_id"], r["status"], r["attempts"]) for r in rows] == [
        (keys.pop(), case_id, "sent", 3)
    ]
    assert (
        await stack.pool.fetchval(
            "SELECT events_since_start FROM fhir_subscriptions WHERE id = $1", sub["id"]
        )
        == 1
    )


BAD = {
    "criteria": (
        {"criteria": "http://example.org/SubscriptionTopic/other"},
        "Subscription.criteria",
    ),
    "no filter": ({"_criteria": {"extension": []}}, "Subscription.criteria.extension"),
    "other filter": (
        {
            "_criteria": {
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                        "backport-filter-criteria",
                        "valueString": "patient=Patient/1",
                    }
                ]
            }
        },
        "Subscription.criteria.extension[0].valueString",
    ),
    "no reason": ({"reason": None}, "Subscription.reason"),
}


def _channel(**changes) -> dict:
    body = subscription_body("http://127.0.0.1:9/notify")
    body["channel"].update(changes)
    return {"channel": body["channel"]}


CHANNEL = {
    "websocket": (_channel(type="websocket"), "Subscription.channel.type"),
    "json": (_channel(payload="application/json"), "Subscription.channel.payload"),
    "id-only": (
        _channel(
            _payload={
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                        "backport-payload-content",
                        "valueCode": "id-only",
                    }
                ]
            }
        ),
        "Subscription.channel.payload.extension",
    ),
    "ftp": (_channel(endpoint="ftp://example.org/x"), "Subscription.channel.endpoint"),
    "header": (_channel(header=["no colon here"]), "Subscription.channel.header[0]"),
}


async def test_bad_subscription_bodies_get_400_and_an_operation_outcome_naming_the_element(
    stack,
):
    for name, (changes, expression) in {**BAD, **CHANNEL}.items():
        body = subscription_body("http://127.0.0.1:9/notify")
        body.update(changes)
        body = {k: v for k, v in body.items() if v is not None}
        r = await stack.http.post("/fhir/Subscription", json=body, headers=headers())
        assert r.status_code == 400, (name, r.text)
        outcome = r.json()
        assert outcome["resourceType"] == "OperationOutcome", name
        assert expression in [e for i in outcome["issue"] for e in i["expression"]], (name, outcome)
        assert "subscriber-secret" not in r.text

    r = await stack.http.post(
        "/fhir/Subscription", json={"resourceType": "Patient"}, headers=headers()
    )
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["resourceType"]
    r = await stack.http.post("/fhir/Subscription", content=b"{nope", headers=headers())
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Subscription"]
    unknown = {**subscription_body("http://127.0.0.1:9/notify"), "topic": "x"}
    r = await stack.http.post("/fhir/Subscription", json=unknown, headers=headers())
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Subscription.topic"]
    good = subscription_body("http://127.0.0.1:9/notify")
    for role, status in (("reviewer", 403), ("claims", 403)):
        r = await stack.http.post("/fhir/Subscription", json=good, headers=headers(role))
        assert r.status_code == status
    r = await stack.http.post("/fhir/Subscription", json=good, headers=FHIR)
    assert r.status_code == 401
    assert await stack.pool.fetchval("SELECT count(*) FROM fhir_subscriptions") == 0

    sub = await subscribe(stack, good)
    r = await stack.http.get(f"/fhir/Subscription/{sub['id']}", headers=auth("intake"))
    assert r.status_code == 200 and r.json() == sub
    for method in ("get", "delete"):  # another subscriber's is not found
        r = await getattr(stack.http, method)(
            f"/fhir/Subscription/{sub['id']}", headers=auth("admin")
        )
        assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    r = await stack.http.delete(f"/fhir/Subscription/{sub['id']}", headers=auth("intake"))
    assert r.status_code == 204
    r = await stack.http.get(f"/fhir/Subscription/{sub['id']}", headers=auth("intake"))
    assert r.json()["status"] == "off"
    audited = await stack.pool.fetch(
        "SELECT subject, action, status FROM access_audit "
        "WHERE route LIKE '/fhir/Subscription%' AND status < 400 ORDER BY id"
    )
    assert [(a["subject"], a["action"], a["status"]) for a in audited] == [
        ("intake-desk", "fhir_subscription_create", 201),
        ("intake-desk", "fhir_subscription_read", 200),
        ("intake-desk", "fhir_subscription_delete", 204),
        ("intake-desk", "fhir_subscription_read", 200),
    ]
