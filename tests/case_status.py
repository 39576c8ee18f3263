"""Waiting for a live case to reach a status (its ``status`` query), for tests."""

from __future__ import annotations

import asyncio

from workflows.authorization import AuthorizationWorkflow


async def wait_for_status(handle, wanted: str, within_s: float = 30.0) -> str | None:
    """Poll the case until its status is ``wanted``; return the last status seen."""
    status = None
    for _ in range(int(within_s / 0.1)):
        status = (await handle.query(AuthorizationWorkflow.status)).status
        if status == wanted:
            return status
        await asyncio.sleep(0.1)
    return status
