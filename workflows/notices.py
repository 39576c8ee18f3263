"""Notices to the prescriber through the outbox (DESIGN.md, How data flows, step 3; Persistence).

Each notice has a key ``case:kind:period:n`` (the outbox is unique on it, so
a retried delivery is harmless); notices go out one after the other, in
order, from a task of their own, and the queue is drained before the run
continues as new or ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow

from workflows.options import NOTICE_HEARTBEAT, NOTICE_TIMEOUT, RETRY

with workflow.unsafe.imports_passed_through():
    from activities.models import NotificationInput
    from activities.notifications import Notifier
    from workflows.case_state import CaseState, NoticeRecord
    from workflows.messages import CaseConfig, CaseInput


class Notices:
    """The case's notice queue and its sender (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _input: CaseInput
    _config: CaseConfig
    _outbox: list[NotificationInput]
    _sender: asyncio.Task[None] | None
    _actor: str | None

    def _notice_key(self, kind: str, n: int) -> str:
        return f"{self.s.case_id}:{kind}:{self.s.period_index}:{n}"

    def _notify(self, kind: str, payload: dict[str, Any], *, n: int | None = None) -> None:
        """Queue a notice (key ``case:kind:period:n``) naming the actor; the case does not wait.

        Notices go out one after the other, in order, from a task of their own, so
        a slow or lost delivery never holds claims or decisions; the queue is
        drained before the run continues as new or ends.
        """
        s = self.s
        if n is None:
            prefix = f"{s.case_id}:{kind}:{s.period_index}:"
            n = sum(1 for k in s.notices_sent if k.startswith(prefix))
        key = self._notice_key(kind, n)
        if key in s.notices_sent:
            return
        s.notices_sent.append(key)
        now = self._now()
        s.notifications.append(NoticeRecord(kind=kind, key=key, at=now, day=self._day(now)))
        npi = s.request.prescriber.npi or "unknown"
        self._outbox.append(
            NotificationInput(
                key=key,
                case_id=s.case_id,
                kind=kind,
                recipient=f"{self._config.notification_recipient}:{npi}",
                payload=payload,
                actor=self._actor,
                policy_ref=self._input.policy_ref,
            )
        )
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_notices())

    async def _send_notices(self) -> None:
        while self._outbox:
            notice = self._outbox[0]
            await workflow.execute_activity_method(
                Notifier.send_notification,
                notice,
                start_to_close_timeout=NOTICE_TIMEOUT,
                # The notifier heartbeats between delivery attempts: a lost worker's
                # attempt is retried within this, not after the whole timeout.
                heartbeat_timeout=NOTICE_HEARTBEAT,
                retry_policy=RETRY,
                summary=f"notify {notice.kind}",
            )
            self._outbox.pop(0)

    def _quiet(self) -> bool:
        """No handler running and no notice waiting: the run may end or continue as new."""
        return workflow.all_handlers_finished() and not self._outbox
