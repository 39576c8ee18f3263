"""A FHIR rest-hook subscriber for tests: a local HTTP server (its own thread) that
records every notification POSTed to it and answers 503 to the first ``fail_first``."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Subscriber:
    url: str
    fail_first: int = 0
    attempts: list[dict[str, Any]] = field(default_factory=list)  # every POST, failed or not
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def received(self) -> list[dict[str, Any]]:
        """The notifications accepted (answered 200)."""
        with self.lock:
            return [a for a in self.attempts if a["answered"] == 200]

    async def wait_for(self, count: int, within_s: float = 30.0) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while loop.time() < deadline:
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.1)
        return self.received


@contextmanager
def subscriber(fail_first: int = 0) -> Iterator[Subscriber]:
    state: dict[str, Subscriber] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sub = state["sub"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with sub.lock:
                failing = len(sub.attempts) < sub.fail_first
                status = 503 if failing else 200
                sub.attempts.append(
                    {
                        "answered": status,
                        "headers": dict(self.headers.items()),
                        "body": json.loads(body),
                    }
                )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["sub"] = Subscriber(
        url=f"http://127.0.0.1:{server.server_port}/notify", fail_first=fail_first
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["sub"]
    finally:
        server.shutdown()
        server.server_close()


TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
#: The requesting organization of examples/fhir_bundles.py (Organization/clinic's NPI).
CLINIC_NPI = "1619985643"


def subscription_body(endpoint: str, org: str = CLINIC_NPI, **changes: Any) -> dict[str, Any]:
    """A PAS Subscription (the IG's example's shape) for ``endpoint`` and ``org``."""
    body: dict[str, Any] = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Results of our pended prior authorization requests",
        "criteria": TOPIC,
        "_criteria": {
            "extension": [
                {
                    "url": f"{BACKPORT}/backport-filter-criteria",
                    "valueString": f"orgIdentifier={org}",
                }
            ]
        },
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {
                "extension": [
                    {"url": f"{BACKPORT}/backport-payload-content", "valueCode": "full-resource"}
                ]
            },
            "header": ["Authorization: Bearer subscriber-secret"],
        },
    }
    body.update(changes)
    return body


def parameters(resource: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: p for p in resource["parameter"]}


def notified_response(
    notification: dict[str, Any], subscription_id: str, number: int
) -> dict[str, Any]:
    """The checks every notification passes (backport R4 notification, full-resource; PAS
    response Bundle and ClaimResponse against the package's profiles); its response Bundle."""
    from tests.fhir_profiles import missing_required

    assert notification["resourceType"] == "Bundle" and notification["type"] == "history"
    status_entry, focus_entry = notification["entry"]
    status = status_entry["resource"]
    assert status["resourceType"] == "Parameters"  # SubscriptionStatus (R4 backport) first
    params = parameters(status)
    assert params["subscription"]["valueReference"]["reference"] == (
        f"Subscription/{subscription_id}"
    )
    assert params["topic"]["valueCanonical"] == TOPIC
    assert params["status"]["valueCode"] == "active"
    assert params["type"]["valueCode"] == "event-notification"
    assert params["events-since-subscription-start"]["valueString"] == str(number)
    event = {p["name"]: p for p in params["notification-event"]["part"]}
    assert event["event-number"]["valueString"] == str(number)
    assert event["focus"]["valueReference"]["reference"] == focus_entry["fullUrl"]
    assert status_entry["request"]["url"].endswith("$status")
    response = focus_entry["resource"]
    assert missing_required(response, "profile-pas-response-bundle") == []
    first = response["entry"][0]["resource"]
    assert first["resourceType"] == "ClaimResponse"
    assert missing_required(first, "profile-claimresponse") == []
    return response


def review_action(response_bundle: dict[str, Any]) -> str:
    item = response_bundle["entry"][0]["resource"]["item"][0]
    (review,) = item["adjudication"][0]["extension"]
    code = next(e for e in review["extension"] if e["url"].endswith("reviewActionCode"))
    return code["valueCodeableConcept"]["coding"][0]["code"]
