"""Webhook deliveries are signed, and the README's receiver recipe verifies them.

A real notifier delivers to a real HTTP receiver on 127.0.0.1; the receiver
checks what it got with the Python snippet of README.md ("Webhook
signatures"), taken from the README itself, so the documented recipe is the
tested one.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import structlog

from activities.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    LogChannel,
    Notice,
    WebhookChannel,
    verify_signature,
)
from activities.notifications import Notifier
from domain.policy_registry import default_registry
from tests.integration.case_factories import notification

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = "whsec-test-0123456789abcdef0123456789"


def readme_recipe():
    """``verify_priorauth_delivery`` exactly as the README writes it."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    [snippet] = [b for b in blocks if "def verify_priorauth_delivery(" in b]
    namespace: dict = {}
    exec(snippet, namespace)
    return namespace["verify_priorauth_delivery"]


async def _delivered(db_pool, webhook_receiver):
    notifier = Notifier(
        db_pool, WebhookChannel(webhook_receiver.url, SECRET), default_registry(), backoff_base=0.01
    )
    result = await notifier.send_notification(notification())
    assert result.status == "sent"
    [received] = webhook_receiver.requests
    return httpx.Headers(received.headers), received.raw


async def test_a_delivery_carries_a_timestamp_and_a_v1_signature(db_pool, webhook_receiver):
    headers, raw = await _delivered(db_pool, webhook_receiver)

    assert abs(int(headers[TIMESTAMP_HEADER]) - time.time()) < 60
    assert re.fullmatch(r"v1=[0-9a-f]{64}", headers[SIGNATURE_HEADER])
    assert headers["content-type"] == "application/json"
    assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], raw, headers[SIGNATURE_HEADER])


async def test_the_readme_recipe_verifies_a_real_delivery(db_pool, webhook_receiver):
    verify = readme_recipe()
    headers, raw = await _delivered(db_pool, webhook_receiver)

    assert verify(SECRET, headers, raw) is True


async def test_the_readme_recipe_fails_when_the_body_is_altered(db_pool, webhook_receiver):
    verify = readme_recipe()
    headers, raw = await _delivered(db_pool, webhook_receiver)
    altered = raw.replace(b'"approval"', b'"denial"')

    assert altered != raw
    assert verify(SECRET, headers, altered) is False
    assert verify(SECRET, headers, raw + b" ") is False
    assert verify("another-secret-0123456789abcdef012345", headers, raw) is False


async def test_the_readme_recipe_refuses_a_replayed_old_delivery() -> None:
    verify = readme_recipe()
    channel = WebhookChannel("https://receiver.example/notices", SECRET)
    body = b'{"kind":"approval"}'
    old = channel.signed_headers(body, timestamp=str(int(time.time()) - 3600))

    assert verify(SECRET, httpx.Headers(old), body) is False
    assert verify(SECRET, httpx.Headers(channel.signed_headers(body)), body) is True


async def test_the_log_channel_logs_the_notice_but_never_its_text() -> None:
    notice = Notice(
        key="pa-REQ-1:denial:0:0",
        case_id="pa-REQ-1",
        kind="denial",
        recipient="prescriber:1234567893",
        text="A0: not met (stated: 2016-01-01) for Josephine Quillfeather",
        payload={"reasons": [{"text": "Josephine"}]},
    )

    with structlog.testing.capture_logs() as logs:
        await LogChannel().deliver(notice)

    [line] = logs
    assert {k: line[k] for k in ("notification_key", "case", "kind", "channel")} == {
        "notification_key": "pa-REQ-1:denial:0:0",
        "case": "pa-REQ-1",
        "kind": "denial",
        "channel": "log",
    }
    assert "Josephine" not in repr(line) and "2016-01-01" not in repr(line)
