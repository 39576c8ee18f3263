"""Delivery channels for the notifications outbox: the log (default) or a webhook, and
the FHIR Subscriptions' rest-hook (``RestHookChannel``).

The log channel logs that a notice went out (its kind, key, channel and case),
never its text: notice bodies stay in the outbox row and with the receiver.

A channel makes ONE delivery attempt per :meth:`deliver` call; it raises
:class:`DeliveryError` when the notice did not get through, saying whether a
later attempt may succeed. Retries, their exponential backoff and the attempt
count live in :class:`activities.notifications.Notifier`, which keeps them in
the outbox row so they survive a worker restart.

The webhook POSTs the notice as JSON with the header ``Idempotency-Key:
<notification key>``: delivery is at least once (a worker can die between a
2xx and recording it), and the key lets the receiver drop a repeat. Every
delivery is signed: ``X-Priorauth-Timestamp: <unix seconds>`` and
``X-Priorauth-Signature: v1=<hex HMAC-SHA256 over "<timestamp>.<body>">`` under
``NOTIFY_WEBHOOK_SECRET``, so a receiver can tell our notices from anyone
else's and refuse replays (:func:`verify_signature`; README, "Webhook
signatures"). Outside dev and test the URL must be https.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import structlog

from infra.settings import Settings

log = structlog.get_logger(__name__)

# Status codes worth another attempt; any other 4xx is the receiver refusing the notice.
RETRYABLE_STATUS = frozenset({408, 425, 429})

TIMESTAMP_HEADER = "X-Priorauth-Timestamp"
SIGNATURE_HEADER = "X-Priorauth-Signature"
SIGNATURE_VERSION = "v1"
#: How old a signed delivery a receiver should still accept (replay window).
SIGNATURE_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 under ``secret`` over ``timestamp + "." + body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a fresh timestamp and a matching ``v1`` signature.

    The README gives the same recipe as a standalone snippet for receivers.
    """
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s.strip()) for s in header.split(","))


@dataclass(frozen=True)
class Notice:
    """One notice as a channel delivers it (the outbox row)."""

    key: str
    case_id: str
    kind: str
    recipient: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    name: str

    async def deliver(self, notice: Notice) -> None: ...


class LogChannel:
    """Writes each notice to the structured log: the default for development."""

    name = "log"

    async def deliver(self, notice: Notice) -> None:
        log.info(
            "notice",
            notification_key=notice.key,
            case=notice.case_id,
            kind=notice.kind,
            channel=self.name,
        )


class WebhookChannel:
    """HTTP POST of the notice as JSON, signed with ``secret``; any 2xx means sent."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a signing secret (NOTIFY_WEBHOOK_SECRET)")
        self.url = url
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._secret = secret
        self._transport = transport

    def signed_headers(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        return {
            **self.headers,
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
        }

    async def deliver(self, notice: Notice) -> None:
        # The exact bytes signed are the bytes sent.
        body = json.dumps(asdict(notice), separators=(",", ":"), ensure_ascii=False).encode()
        headers = {**self.signed_headers(body), "Idempotency-Key": notice.key}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self._transport) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}") from exc
        if response.is_success:
            return
        status = response.status_code
        retryable = status >= 500 or status in RETRYABLE_STATUS
        raise DeliveryError(f"webhook answered HTTP {status}", retryable=retryable)


class RestHookChannel:
    """FHIR Subscriptions' rest-hook (R4 backport): POST the notification Bundle, as
    ``application/fhir+json``, to the subscription's endpoint with its ``channel.header``
    lines and ``Idempotency-Key: <notification key>``; any 2xx means sent.

    The outbox row's ``recipient`` is ``fhir-subscription:<id>``; the endpoint and headers
    are read from ``fhir_subscriptions`` at each attempt, so a subscription turned off
    (DELETE) gets nothing more: that refusal is final. Nothing about the endpoint, the
    headers or the body is logged.
    """

    name = "rest-hook"
    PREFIX = "fhir-subscription:"

    def __init__(
        self,
        pool: Any,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._pool = pool
        self.timeout = timeout
        self._transport = transport

    async def deliver(self, notice: Notice) -> None:
        sub = await self._pool.fetchrow(
            "SELECT endpoint, headers, status FROM fhir_subscriptions WHERE id = $1",
            notice.recipient.removeprefix(self.PREFIX),
        )
        if sub is None or sub["status"] != "active":
            raise DeliveryError("subscription is off", retryable=False)
        headers = {}
        for line in sub["headers"] or []:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        headers.update({"Content-Type": "application/fhir+json", "Idempotency-Key": notice.key})
        body = json.dumps(notice.payload, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self._transport) as client:
                response = await client.post(sub["endpoint"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"rest-hook unreachable: {type(exc).__name__}") from exc
        if response.is_success:
            return
        status = response.status_code
        retryable = status >= 500 or status in RETRYABLE_STATUS
        raise DeliveryError(f"rest-hook answered HTTP {status}", retryable=retryable)


def make_channel(settings: Settings) -> Channel:
    """The channel the settings name (``NOTIFY_CHANNEL``: ``log`` or ``webhook``).

    A webhook needs its URL and signing secret; outside dev and test, https only.
    """
    if settings.notify_channel == "webhook":
        url = settings.notify_webhook_url
        if not url:
            raise ValueError("NOTIFY_CHANNEL=webhook needs NOTIFY_WEBHOOK_URL")
        if not settings.notify_webhook_secret:
            raise ValueError("NOTIFY_CHANNEL=webhook needs NOTIFY_WEBHOOK_SECRET")
        if urlsplit(url).scheme.lower() != "https" and not settings.is_dev:
            raise ValueError("NOTIFY_WEBHOOK_URL must be https outside PRIORAUTH_ENV=dev")
        return WebhookChannel(url, settings.notify_webhook_secret)
    return LogChannel()
