"""FHIR subscription notifications in the outbox, against a real PostgreSQL and a local
HTTP subscriber: once per decision and subscription however often the activity runs,
numbered without gaps, retried with backoff, and kept when undeliverable."""

from __future__ import annotations

import pytest

from activities.channels import LogChannel, Notice, RestHookChannel
from activities.fhir_subscriptions import SubscriptionFanOut
from activities.notifications import Notifier
from api.fhir import door
from domain.policy_registry import default_registry
from interop.fhir.claim_response import ClaimContext
from interop.fhir.subscription import accept, context_dict
from tests.fhir_subscriber import CLINIC_NPI, notified_response, subscriber, subscription_body
from tests.integration.case_factories import notification

CASE = "pa-REQ-1"
OWNER = "ehr-system"


async def _fhir_case(pool, subscribers) -> list[str]:
    ctx = ClaimContext(
        identifier_system="urn:ehr:claims",
        identifier_value="REQ-1",
        claim_reference="urn:uuid:6f1c1b9e-0d5e-4a43-9a43-3e3a1d1c2b11",
        patient="Patient/member",
        insurer="Organization/plan",
        provider="Organization/clinic",
        claim_type=None,
    )
    await door.remember_claim(pool, CASE, OWNER, [CLINIC_NPI], context_dict(ctx))
    ids = []
    for hook in subscribers:
        sub = accept(subscription_body(hook.url), allow_http=True)
        await door.create_subscription(
            pool, OWNER, sub.id, sub.org_identifiers, sub.endpoint, sub.headers, None, sub.resource
        )
        ids.append(sub.id)
    return ids


def _notifiers(pool, channel=None, max_attempts: int = 5) -> Notifier:
    policies = default_registry()
    rest_hook = Notifier(
        pool,
        channel or RestHookChannel(pool),
        policies,
        max_attempts=max_attempts,
        backoff_base=0.01,
    )
    fan_out = SubscriptionFanOut(pool, rest_hook, policies)
    return Notifier(pool, LogChannel(), policies, followers=[fan_out], backoff_base=0.01)


async def test_each_decision_is_notified_once_per_subscription_and_numbered(runtime_pool):
    with subscriber() as a, subscriber(fail_first=2) as b:
        sub_a, sub_b = await _fhir_case(runtime_pool, [a, b])
        notifier = _notifiers(runtime_pool)
        await notifier.send_notification(notification("k/pend", kind="pend", payload={}))
        assert a.attempts == b.attempts == []  # a pend is not a decision
        for _ in range(3):  # Temporal may run the activity again
            await notifier.send_notification(notification("k/approval"))
        assert len(a.received) == len(b.received) == 1
        assert [x["answered"] for x in b.attempts] == [503, 503, 200]
        notified_response(a.received[0]["body"], sub_a, 1)
        notified_response(b.received[0]["body"], sub_b, 1)
        # a later decision of the same case (an appeal's) is the next event
        await notifier.send_notification(notification("k/denial", kind="denial", payload={}))
        notified_response(a.received[1]["body"], sub_a, 2)
    rows = await runtime_pool.fetch(
        "SELECT key, status FROM notifications WHERE kind = 'fhir_subscription' ORDER BY key"
    )
    assert sorted(r["key"] for r in rows) == sorted(
        f"fhir:{s}:k/{d}" for s in (sub_a, sub_b) for d in ("approval", "denial")
    )


async def test_a_subscriber_down_past_every_attempt_keeps_its_notification_in_the_outbox(
    runtime_pool,
):
    with subscriber(fail_first=100) as down:
        (sub,) = await _fhir_case(runtime_pool, [down])
        notifier = _notifiers(runtime_pool, max_attempts=3)
        await notifier.send_notification(notification("k/pend", kind="pend", payload={}))
        result = await notifier.send_notification(notification("k/approval"))
        assert result.status == "sent"  # the prescriber's notice is not held by it
        assert len(down.attempts) == 3
    row = await runtime_pool.fetchrow(
        "SELECT status, attempts, last_error, payload FROM notifications WHERE key = $1",
        f"fhir:{sub}:k/approval",
    )
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert row["last_error"] == "rest-hook answered HTTP 503"
    notified_response(row["payload"], sub, 1)  # the bundle is kept, ready to be sent again


class _DiesOnce:
    """The rest-hook channel, except that the first attempt dies (a worker lost)."""

    name = "rest-hook"

    def __init__(self, pool) -> None:
        self.inner = RestHookChannel(pool)
        self.died = False

    async def deliver(self, notice: Notice) -> None:
        if not self.died:
            self.died = True
            raise RuntimeError("worker lost")
        await self.inner.deliver(notice)


async def test_a_notification_whose_attempt_died_is_delivered_by_the_retry(runtime_pool):
    with subscriber() as hook:
        (sub,) = await _fhir_case(runtime_pool, [hook])
        notifier = _notifiers(runtime_pool, channel=_DiesOnce(runtime_pool))
        await notifier.send_notification(notification("k/pend", kind="pend", payload={}))
        with pytest.raises(RuntimeError):
            await notifier.send_notification(notification("k/approval"))
        assert hook.attempts == []
        await notifier.send_notification(notification("k/approval"))  # Temporal's retry
        assert len(hook.received) == 1
        notified_response(hook.received[0]["body"], sub, 1)
