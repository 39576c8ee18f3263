"""The notifications outbox: every notice written once, then delivered once.

DESIGN.md, Persistence; POLICY.md, Decision clocks and appeals (escalations,
appeal rights). A notice is written by ``write`` (inside the case's transaction,
``CaseOutbox.write_effects``) and delivered by ``deliver`` (the worker's outbox
dispatcher); ``send_notification`` does both in one call, for tests and tools:

1. inserts the notice under its ``key`` (``ON CONFLICT (key) DO NOTHING``),
   with the text rendered by :mod:`activities.notice_text` under the case's
   policy (``policy_ref``, from the registry; None: Blincyto's); a repeated call
   with the same key delivers what the first one wrote;
2. takes the row with a status transition ``pending -> sending`` that also
   sets a lease (``lease_until``). Only one attempt can hold it, so two
   concurrent attempts never both send. A lease left by a worker that died
   expires and the next attempt takes the row over;
3. delivers through the channel, retrying with
   exponential backoff (``backoff_base * 2**(n-1)`` seconds, capped at
   ``backoff_max``). Each attempt is counted in the row, so a restarted
   delivery continues the count instead of starting over;
4. marks the row ``sent`` (``sent_at``, ``attempts``); a later call finds it
   sent and delivers nothing. After ``max_attempts`` failed attempts, or a
   refusal that will not change (HTTP 4xx), the row is ``failed`` and the
   result says so: an undeliverable notice is a business outcome, not a
   reason to retry forever.

Delivery is at least once towards the receiver only in one case: the worker
dies after the channel succeeded and before the row was marked; the webhook's
``Idempotency-Key`` header lets the receiver drop that repeat.

After its own notice, the notifier runs its *followers* (``NoticeFollower``):
what else a notice sets off, each idempotent since a retried delivery runs them
again. The FHIR door's subscriptions are one
(:mod:`activities.fhir_subscriptions`: a decision of a case that waited writes
one outbox row per matching subscription and delivers each through a second
``Notifier`` on the rest-hook channel, with the same attempts and backoff).

Infrastructure errors (PostgreSQL) propagate, so the caller retries.
A notice whose row is leased by another live attempt raises a retryable
``ApplicationError`` (type ``NoticeInFlight``); the retry finds it sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.channels import Channel, DeliveryError, Notice
from activities.models import NotificationInput, NotificationResult
from activities.notice_text import render
from domain.policy_registry import PolicyRegistry

log = structlog.get_logger(__name__)

_INSERT = """
INSERT INTO notifications (key, case_id, kind, recipient, channel, payload, text, actor,
                           policy_ref)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (key) DO NOTHING
"""

_CLAIM = """
UPDATE notifications
SET status = 'sending', lease_until = now() + make_interval(secs => $2), updated_at = now()
WHERE key = $1
  AND (status = 'pending' OR (status = 'sending' AND lease_until < now()))
RETURNING key, case_id, kind, recipient, payload, text, attempts
"""

_RECORD_FAILURE = """
UPDATE notifications
SET attempts = $2, last_error = $3, status = $4, updated_at = now(),
    lease_until = CASE WHEN $4 = 'failed' THEN NULL
                       ELSE now() + make_interval(secs => $5) END
WHERE key = $1
"""

_MARK_SENT = """
UPDATE notifications
SET status = 'sent', attempts = $2, sent_at = now(), lease_until = NULL,
    last_error = NULL, updated_at = now()
WHERE key = $1
"""

_RELEASE = """
UPDATE notifications SET status = 'pending', lease_until = NULL, updated_at = now()
WHERE key = $1 AND status = 'sending'
"""


class NoticeFollower(Protocol):
    """What else a notice sets off once written (idempotent: a retry runs it again)."""

    async def after_notice(self, inp: NotificationInput) -> None: ...


class Notifier:
    """Writes notices to the outbox and delivers each once through one channel."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        channel: Channel,
        policies: PolicyRegistry,
        max_attempts: int = 5,
        *,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        # Shorter than the workflow's 60 s heartbeat timeout, so the retry that follows a
        # dead worker finds the lease expired; renewed after every failed attempt.
        lease_seconds: float = 45.0,
        followers: Sequence[NoticeFollower] = (),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._pool = pool
        self._channel = channel
        self._policies = policies
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._lease = lease_seconds
        self._followers = list(followers)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        delay: float = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
        return delay

    @property
    def channel_name(self) -> str:
        return self._channel.name

    async def send_notification(self, inp: NotificationInput) -> NotificationResult:
        """Write the notice to the outbox (once per key), deliver it (once) and run its
        followers: in one call, for tests and tools; cases write their notices through
        ``CaseOutbox.write_effects`` and the worker's dispatcher delivers them."""
        await self.write(self._pool, inp)
        result = await self.deliver(inp.key)
        await self.follow(inp)
        return result

    async def write(self, conn: asyncpg.Pool | PoolConnectionProxy, inp: NotificationInput) -> None:
        """Insert the notice into the outbox under its key (a repeat writes nothing)."""
        if not inp.key.strip():
            raise ApplicationError("notification key is empty", non_retryable=True)
        try:
            policy = self._policies.resolve(inp.policy_ref)
        except LookupError as err:
            raise ApplicationError(
                f"no policy for this case: {err}", type="UnknownPolicy", non_retryable=True
            ) from err
        await conn.execute(
            _INSERT,
            inp.key,
            inp.case_id,
            inp.kind,
            inp.recipient,
            self._channel.name,
            inp.payload,
            render(inp.kind, inp.payload, inp.case_id, policy=policy),
            inp.actor,
            inp.policy_ref,
        )

    async def follow(self, inp: NotificationInput) -> None:
        """What else the notice sets off (the followers; each idempotent)."""
        for follower in self._followers:
            await follower.after_notice(inp)

    async def deliver(self, key: str) -> NotificationResult:
        """Deliver the outbox row ``key`` once (a row already sent or failed: its result)."""
        row = await self._pool.fetchrow(_CLAIM, key, self._lease)
        if row is None:
            return await self._already_handled(key)
        notice = Notice(
            key=row["key"],
            case_id=row["case_id"],
            kind=row["kind"],
            recipient=row["recipient"],
            text=row["text"],
            payload=row["payload"],
        )
        try:
            return await self._deliver(notice, row["attempts"])
        except BaseException:
            # Not a delivery outcome (a bug, cancellation, the database): give the
            # row back so the retry need not wait for the lease to run out.
            await asyncio.shield(self._release(notice.key))
            raise

    async def _deliver(self, notice: Notice, attempts: int) -> NotificationResult:
        bound = log.bind(notification_key=notice.key, case=notice.case_id, kind=notice.kind)
        channel = self._channel.name
        while attempts < self._max_attempts:
            attempts += 1
            try:
                await self._channel.deliver(notice)
            except DeliveryError as exc:
                final = not exc.retryable or attempts >= self._max_attempts
                status = "failed" if final else "sending"
                await self._pool.execute(
                    _RECORD_FAILURE, notice.key, attempts, str(exc), status, self._lease
                )
                bound.warning(
                    "notice delivery failed", attempt=attempts, error=str(exc), final=final
                )
                if final:
                    return NotificationResult(status="failed", channel=channel, attempts=attempts)
                if activity.in_activity():
                    activity.heartbeat(attempts)
                await asyncio.sleep(self.backoff(attempts))
                continue
            await self._pool.execute(_MARK_SENT, notice.key, attempts)
            bound.info("notice sent", attempts=attempts, channel=channel)
            return NotificationResult(status="sent", channel=channel, attempts=attempts)
        await self._pool.execute(
            _RECORD_FAILURE, notice.key, attempts, "attempts exhausted", "failed", self._lease
        )
        return NotificationResult(status="failed", channel=channel, attempts=attempts)

    async def _already_handled(self, key: str) -> NotificationResult:
        row = await self._pool.fetchrow(
            "SELECT status, channel, attempts FROM notifications WHERE key = $1", key
        )
        if row is None:  # inserted above, so only a concurrent DELETE gets here
            raise RuntimeError(f"notification {key} vanished from the outbox")
        if row["status"] in ("sent", "failed"):
            return NotificationResult(
                status=row["status"], channel=row["channel"], attempts=row["attempts"]
            )
        raise ApplicationError(
            "notice is being delivered by another attempt", type="NoticeInFlight"
        )

    async def _release(self, key: str) -> None:
        try:
            await self._pool.execute(_RELEASE, key)
        except Exception:  # the lease will expire on its own
            log.warning("could not release notice lease", notification_key=key)
