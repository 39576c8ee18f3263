"""Delivery channels for the notifications outbox: the log (default) or a webhook.

The log channel logs that a notice went out (its kind, key, channel and case),
never its text: notice bodies stay in the outbox row and with the receiver.

A channel makes ONE delivery attempt per :meth:`deliver` call; it raises
:class:`DeliveryError` when the notice did not get through, saying whether a
later attempt may succeed. Retries, their exponential backoff and the attempt
count live in :class:`activities.notifications.Notifier`, which keeps them in
the outbox row so they survive a worker restart.

The webhook POSTs the notice as JSON with the header ``Idempotency-Key:
<notification key>``: delivery is at least once (a worker can die between a
2xx and recording it), and the key lets the receiver drop a repeat.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx
import structlog

from infra.settings import Settings

log = structlog.get_logger(__name__)

# Status codes worth another attempt; any other 4xx is the receiver refusing the notice.
RETRYABLE_STATUS = frozenset({408, 425, 429})


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
    """HTTP POST of the notice as JSON; any 2xx means sent."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._transport = transport

    async def deliver(self, notice: Notice) -> None:
        headers = {**self.headers, "Idempotency-Key": notice.key}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self._transport) as client:
                response = await client.post(self.url, json=asdict(notice), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}") from exc
        if response.is_success:
            return
        status = response.status_code
        retryable = status >= 500 or status in RETRYABLE_STATUS
        raise DeliveryError(f"webhook answered HTTP {status}", retryable=retryable)


def make_channel(settings: Settings) -> Channel:
    """The channel the settings name (``NOTIFY_CHANNEL``: ``log`` or ``webhook``)."""
    if settings.notify_channel == "webhook":
        if not settings.notify_webhook_url:
            raise ValueError("NOTIFY_CHANNEL=webhook needs NOTIFY_WEBHOOK_URL")
        return WebhookChannel(settings.notify_webhook_url)
    return LogChannel()
