"""The case's one durable timer, armed for the next deadline (DESIGN.md, How data flows, step 5).

The run loop waits for a handler's poke, the timer, the end or a
continue-as-new; the timer is re-armed only when the next deadline changes,
so a case keeps a single timer however many clocks it runs (DESIGN.md,
Temporal specifics: timer ``summary`` makes it readable in the UI).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow


class Timers:
    """Arms, waits on and disarms the next-deadline timer (mixed into AuthorizationWorkflow)."""

    _wake: bool
    _finished: bool
    _continue: bool
    _timer_task: asyncio.Task[None] | None
    _armed: tuple[datetime, str] | None
    _timer_fired: bool

    async def _wait(self) -> None:
        nxt = self._next_deadline()
        if nxt != self._armed:
            self._disarm()
            if nxt is not None:
                self._armed = nxt
                self._timer_fired = False
                self._timer_task = asyncio.create_task(self._sleep_until(*nxt))
        await workflow.wait_condition(
            lambda: self._wake or self._timer_fired or self._finished or self._continue
        )
        self._wake = False
        if self._timer_fired:
            self._timer_fired = False
            self._armed = None
            self._timer_task = None

    async def _sleep_until(self, deadline: datetime, label: str) -> None:
        delay = max(deadline - self._now(), timedelta(seconds=1))
        await workflow.sleep(delay, summary=label)
        self._timer_fired = True

    def _disarm(self) -> None:
        if self._timer_task is not None and not self._timer_task.done():
            self._timer_task.cancel()
        self._timer_task = None
        self._armed = None
        self._timer_fired = False

    def _poke(self) -> None:
        self._wake = True
