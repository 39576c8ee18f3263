"""The outbox against a real PostgreSQL and a local HTTP receiver: written once, sent once."""

from __future__ import annotations

import asyncio
import socket

import pytest
from temporalio.exceptions import ApplicationError

from activities.channels import DeliveryError, LogChannel, Notice, WebhookChannel, make_channel
from activities.notifications import Notifier
from domain.policy_registry import default_registry
from infra.settings import Settings
from tests.integration.case_factories import notification

SECRET = "whsec-test-0123456789abcdef0123456789"


class RecordingChannel:
    """Delivers into a list; fails the first ``failures`` attempts."""

    name = "recording"

    def __init__(self, failures: int = 0, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.attempts = 0
        self.delivered: list[Notice] = []

    async def deliver(self, notice: Notice) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise DeliveryError("down", retryable=self.retryable)
        self.delivered.append(notice)


def fast_notifier(pool, channel, max_attempts: int = 5) -> Notifier:
    return Notifier(pool, channel, default_registry(), max_attempts=max_attempts, backoff_base=0.01)


async def _row(pool, key="pa-REQ-1/approval/1"):
    return await pool.fetchrow("SELECT * FROM notifications WHERE key = $1", key)


async def test_repeated_send_writes_one_row_and_delivers_once(db_pool):
    channel = RecordingChannel()
    notifier = fast_notifier(db_pool, channel)

    results = [await notifier.send_notification(notification()) for _ in range(3)]

    assert [r.status for r in results] == ["sent", "sent", "sent"]
    assert len(channel.delivered) == 1
    assert await db_pool.fetchval("SELECT count(*) FROM notifications") == 1
    row = await _row(db_pool)
    assert (row["status"], row["attempts"], row["channel"]) == ("sent", 1, "recording")
    assert row["sent_at"] is not None


async def test_outbox_row_holds_kind_recipient_payload_and_text(db_pool):
    channel = RecordingChannel()
    await fast_notifier(db_pool, channel).send_notification(notification())

    row = await _row(db_pool)
    assert (row["kind"], row["recipient"], row["case_id"]) == (
        "approval",
        "prescriber:1234567893",
        "pa-REQ-1",
    )
    assert row["payload"]["authorized_units"] == 4900
    assert "2026-12-03 to 2027-06-30" in row["text"]
    assert channel.delivered[0].text == row["text"]


async def test_a_repeat_with_the_same_key_delivers_what_was_first_written(db_pool):
    channel = RecordingChannel()
    notifier = fast_notifier(db_pool, channel, max_attempts=1)
    await db_pool.execute(
        "INSERT INTO notifications (key, case_id, kind, recipient, channel, payload, text)"
        " VALUES ('k', 'pa-REQ-1', 'expiry', 'r', 'recording', '{}', 'first text')"
    )

    await notifier.send_notification(notification(key="k", kind="approval"))

    assert [(n.kind, n.text) for n in channel.delivered] == [("expiry", "first text")]


async def test_failed_attempts_are_retried_with_backoff_and_counted(db_pool):
    channel = RecordingChannel(failures=2)

    result = await fast_notifier(db_pool, channel).send_notification(notification())

    assert (result.status, result.attempts) == ("sent", 3)
    assert channel.attempts == 3 and len(channel.delivered) == 1
    assert (await _row(db_pool))["attempts"] == 3


async def test_a_notice_is_failed_after_max_attempts_and_never_retried_again(db_pool):
    channel = RecordingChannel(failures=100)
    notifier = fast_notifier(db_pool, channel, max_attempts=3)

    first = await notifier.send_notification(notification())
    again = await notifier.send_notification(notification())

    assert (first.status, first.attempts) == ("failed", 3)
    assert (again.status, again.attempts) == ("failed", 3)
    assert channel.attempts == 3
    row = await _row(db_pool)
    assert (row["status"], row["last_error"], row["sent_at"]) == ("failed", "down", None)


async def test_a_refusal_that_will_not_change_is_not_retried(db_pool):
    channel = RecordingChannel(failures=1, retryable=False)

    result = await fast_notifier(db_pool, channel).send_notification(notification())

    assert (result.status, result.attempts, channel.attempts) == ("failed", 1, 1)


async def test_a_restarted_activity_continues_the_attempt_count(db_pool):
    await db_pool.execute(
        "INSERT INTO notifications (key, case_id, kind, recipient, channel, attempts, status,"
        " lease_until) VALUES ('pa-REQ-1/approval/1', 'pa-REQ-1', 'approval', 'r', 'recording',"
        " 2, 'sending', now() - interval '1 second')"
    )
    channel = RecordingChannel(failures=100)

    result = await fast_notifier(db_pool, channel, max_attempts=3).send_notification(notification())

    assert (result.status, result.attempts, channel.attempts) == ("failed", 3, 1)


async def test_a_live_lease_of_another_attempt_is_not_sent_again(db_pool):
    await db_pool.execute(
        "INSERT INTO notifications (key, case_id, kind, recipient, channel, status, lease_until)"
        " VALUES ('pa-REQ-1/approval/1', 'pa-REQ-1', 'approval', 'r', 'recording', 'sending',"
        " now() + interval '1 minute')"
    )
    channel = RecordingChannel()

    with pytest.raises(ApplicationError) as caught:
        await fast_notifier(db_pool, channel).send_notification(notification())

    assert caught.value.type == "NoticeInFlight" and not caught.value.non_retryable
    assert channel.attempts == 0


async def test_an_unexpected_channel_error_gives_the_row_back_for_the_retry(db_pool):
    class Broken(RecordingChannel):
        async def deliver(self, notice: Notice) -> None:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await fast_notifier(db_pool, Broken()).send_notification(notification())
    channel = RecordingChannel()
    result = await fast_notifier(db_pool, channel).send_notification(notification())

    assert result.status == "sent" and len(channel.delivered) == 1


def test_backoff_doubles_from_the_base_up_to_the_cap(db_pool):
    notifier = Notifier(
        db_pool, LogChannel(), default_registry(), backoff_base=0.5, backoff_max=3.0
    )

    assert [notifier.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_log_channel_is_the_default_and_sends(db_pool):
    channel = make_channel(Settings(notify_channel="log"))
    result = await Notifier(db_pool, channel, default_registry()).send_notification(notification())

    assert isinstance(channel, LogChannel)
    assert (result.status, result.channel) == ("sent", "log")


def test_webhook_channel_needs_its_url_and_signing_secret():
    hook = {"notify_channel": "webhook", "notify_webhook_secret": SECRET}
    with pytest.raises(ValueError, match="NOTIFY_WEBHOOK_URL"):
        make_channel(Settings(**hook, notify_webhook_url=None))
    with pytest.raises(ValueError, match="NOTIFY_WEBHOOK_SECRET"):
        make_channel(Settings(notify_channel="webhook", notify_webhook_url="http://x/y"))
    channel = make_channel(Settings(**hook, notify_webhook_url="http://x/y"))
    assert isinstance(channel, WebhookChannel) and channel.url == "http://x/y"


def test_webhook_must_be_https_outside_dev_and_test():
    hook = {"notify_channel": "webhook", "notify_webhook_secret": SECRET}
    with pytest.raises(ValueError, match="must be https"):
        make_channel(Settings(**hook, notify_webhook_url="http://x/y", priorauth_env="production"))
    for env in ("dev", "test"):
        assert make_channel(Settings(**hook, notify_webhook_url="http://x/y", priorauth_env=env))
    assert make_channel(
        Settings(**hook, notify_webhook_url="https://x/y", priorauth_env="production")
    )


async def test_webhook_receiver_failures_are_retried_and_the_notice_delivered_once(
    db_pool, webhook_receiver
):
    webhook_receiver.statuses = [503, 500]
    notifier = fast_notifier(db_pool, WebhookChannel(webhook_receiver.url, SECRET))

    result = await notifier.send_notification(notification())
    again = await notifier.send_notification(notification())

    assert (result.status, result.attempts, again.status) == ("sent", 3, "sent")
    assert len(webhook_receiver.requests) == 3
    keys = {r.headers["idempotency-key"] for r in webhook_receiver.requests}
    assert keys == {"pa-REQ-1/approval/1"}
    body = webhook_receiver.requests[-1].body
    assert (body["key"], body["kind"], body["payload"]["cycles"]) == (
        "pa-REQ-1/approval/1",
        "approval",
        5,
    )
    assert webhook_receiver.requests[-1].headers["content-type"] == "application/json"
    row = await _row(db_pool)
    assert (row["status"], row["attempts"]) == ("sent", 3)


async def test_webhook_that_keeps_failing_is_marked_failed_after_max_attempts(
    db_pool, webhook_receiver
):
    webhook_receiver.statuses = [500] * 10
    notifier = fast_notifier(db_pool, WebhookChannel(webhook_receiver.url, SECRET), max_attempts=4)

    result = await notifier.send_notification(notification())

    assert (result.status, result.attempts) == ("failed", 4)
    assert len(webhook_receiver.requests) == 4
    assert (await _row(db_pool))["last_error"] == "webhook answered HTTP 500"


@pytest.mark.parametrize(("status", "requests"), [(400, 1), (429, 2), (408, 2)])
async def test_webhook_client_errors_are_final_except_timeouts_and_rate_limits(
    db_pool, webhook_receiver, status, requests
):
    webhook_receiver.statuses = [status]

    result = await fast_notifier(
        db_pool, WebhookChannel(webhook_receiver.url, SECRET)
    ).send_notification(notification())

    assert result.status == ("failed" if requests == 1 else "sent")
    assert len(webhook_receiver.requests) == requests


async def test_unreachable_webhook_is_retried(db_pool):
    with socket.socket() as bound_not_listening:
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        channel = WebhookChannel(f"http://127.0.0.1:{port}/nobody", SECRET, timeout=1)

        result = await fast_notifier(db_pool, channel, max_attempts=2).send_notification(
            notification()
        )

    assert (result.status, result.attempts) == ("failed", 2)
    assert "unreachable" in (await _row(db_pool))["last_error"]


async def test_two_concurrent_attempts_deliver_the_notice_once(db_pool, webhook_receiver):
    webhook_receiver.gate = asyncio.Event()
    notifier = fast_notifier(db_pool, WebhookChannel(webhook_receiver.url, SECRET))
    first = asyncio.create_task(notifier.send_notification(notification()))
    await asyncio.wait_for(webhook_receiver.arrived.wait(), timeout=10)

    with pytest.raises(ApplicationError) as in_flight:
        await notifier.send_notification(notification())
    webhook_receiver.gate.set()
    result = await first
    after = await notifier.send_notification(notification())

    assert in_flight.value.type == "NoticeInFlight"
    assert (result.status, after.status) == ("sent", "sent")
    assert len(webhook_receiver.requests) == 1
