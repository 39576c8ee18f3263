"""A case's writes after a message, in one transaction; the outbox's dispatcher.

DESIGN.md, Persistence (the outbox pattern). ``CaseOutbox.write_effects`` is
one local activity: the case's notices go into the ``notifications`` outbox
and its projection into ``authorizations`` in ONE transaction, so a notice is
durable as soon as the workflow task that decided it completes (a retried
attempt writes nothing twice: notices are unique on their key, the projection
is versioned). No activity the server dispatches per notice, no workflow task
per delivery.

``OutboxDispatcher`` delivers what the outbox owes, from the worker (one per
channel's ``Notifier``): woken at once by a write in this process, and every
``poll_seconds`` for rows another worker wrote or left behind. It delivers
through ``Notifier.deliver`` — the lease (``pending -> sending``, taken over
once it expires: a dead worker's notice is delivered by the next one), the
counted attempts and the backoff are the notifier's — then the notifier's
followers. A case's notices go out in the order they were written; cases are
delivered side by side. A database outage stops nothing: the next poll finds
the rows still owed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from temporalio import activity

from activities.models import CaseEffectsInput, CaseEffectsResult, NotificationInput
from activities.notifications import Notifier
from activities.store import CaseStore

log = structlog.get_logger(__name__)

_OWED = """
SELECT key, case_id, kind, recipient, payload, actor, policy_ref
FROM notifications
WHERE channel = $1
  AND (status = 'pending' OR (status = 'sending' AND lease_until < now()))
ORDER BY id
LIMIT $2
"""


class OutboxDispatcher:
    """Delivers the outbox rows of one notifier's channel, from the worker."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        notifier: Notifier,
        *,
        poll_seconds: float = 1.0,
        batch: int = 200,
        concurrency: int = 32,
    ) -> None:
        self._pool = pool
        self._notifier = notifier
        self._poll = poll_seconds
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._busy: set[str] = set()  # cases whose notices are being delivered here
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """A notice was written in this process: look now, not at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: find what is owed, deliver it case by case."""
        while True:
            self._wake.clear()
            try:
                await self.dispatch_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox scan failed; retrying", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def dispatch_once(self) -> int:
        """Start delivering every owed row of cases not already being delivered here."""
        rows = await self._pool.fetch(_OWED, self._notifier.channel_name, self._batch)
        by_case: dict[str, list[NotificationInput]] = {}
        for row in rows:
            if row["case_id"] in self._busy:
                continue
            by_case.setdefault(row["case_id"], []).append(
                NotificationInput(
                    key=row["key"],
                    case_id=row["case_id"],
                    kind=row["kind"],
                    recipient=row["recipient"],
                    payload=row["payload"] or {},
                    actor=row["actor"],
                    policy_ref=row["policy_ref"],
                )
            )
        for case_id, notices in by_case.items():
            self._busy.add(case_id)
            task = asyncio.create_task(self._deliver_case(case_id, notices))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return sum(len(n) for n in by_case.values())

    async def _deliver_case(self, case_id: str, notices: list[NotificationInput]) -> None:
        try:
            async with self._slots:
                for notice in notices:
                    result = await self._notifier.deliver(notice.key)
                    if result.status != "pending":
                        await self._notifier.follow(notice)
        except Exception as exc:  # the row stays owed: the next scan takes it again
            log.warning("outbox delivery interrupted", case=case_id, error=str(exc))
        finally:
            self._busy.discard(case_id)
            self._wake.set()  # rows of this case written meanwhile

    async def drain(self) -> None:
        """Wait for the deliveries under way (tests; a worker's orderly stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class CaseOutbox:
    """The local activity a case runs after a message: notices and projection, one commit."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: CaseStore,
        notifier: Notifier,
        dispatcher: OutboxDispatcher | None = None,
    ) -> None:
        self._pool = pool
        self._store = store
        self._notifier = notifier
        self._dispatcher = dispatcher

    def activities(self) -> list[Callable[..., Any]]:
        return [self.write_effects]

    @activity.defn
    async def write_effects(self, inp: CaseEffectsInput) -> CaseEffectsResult:
        """The case's notices into the outbox and its projection, in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            result = await self.write_in(conn, inp)
        self.written(inp)
        return result

    async def write_in(self, conn: PoolConnectionProxy, inp: CaseEffectsInput) -> CaseEffectsResult:
        """The writes of ``write_effects`` in the caller's transaction (a decision's:
        ``CaseDecisions.decide_request``); call ``written`` once it commits."""
        for notice in inp.notices:
            await self._notifier.write(conn, notice)
        projected = False
        if inp.projection is not None:
            projected = await self._store.project_in(conn, inp.projection)
        return CaseEffectsResult(notices_written=len(inp.notices), projected=projected)

    def written(self, inp: CaseEffectsInput) -> None:
        """The writes committed: the dispatcher delivers their notices now."""
        if inp.notices and self._dispatcher is not None:
            self._dispatcher.wake()
