"""A case asked for its status while it takes its first decision replays as it ran.

A query that reaches a case whose first workflow task is still running its decision's
local activity is answered by a task that completes with no command; replaying the
history, the SDK hands the workflow that task's successor's time instead of the time the
case had when it asked for the decision. The decision's activity writes the notices and
the projection that follow it, at the time it was asked, and records that time with its
answer (``DecideRequestResult.server_now``), so the case takes the decision at the same
time on replay, and no command depends on comparing the two (workflows/authorization.py,
``_take_written``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType

import worker
from cases.client import CaseClient
from examples.example_requests import parequest
from infra.settings import Settings
from tests.replaying import replay_failure
from workflows.authorization import AuthorizationWorkflow as W


def _query_only_first_task(history) -> bool:
    """The first workflow task completed before any command (a query answered)."""
    types = [e.event_type for e in history.events]
    completed = types.index(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    return types[completed + 1] == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED


async def test_a_case_queried_during_its_first_decision_replays_and_decides_once(
    dev_server, db_pool, task_queue
):
    settings = Settings(
        temporal_address=dev_server.address,
        temporal_task_queue=task_queue,
        member_ref_key="test-member-ref-key",
        codec_keys="none",
    )
    client = await worker.connect_client(settings)
    now = datetime.now(UTC)
    request = parequest(
        request_id=f"QRY-{task_queue}",
        received_at=now.isoformat(),
        requested_start=now.date().isoformat(),
    )
    async with worker.build_worker(client, db_pool, settings, task_queue=task_queue):
        cases = CaseClient.from_settings(client, settings, task_queue=task_queue)
        # Hold the decision's activity at its notice (the outbox is locked against
        # writes) while the case is queried: its first task then answers the query
        # and completes with no command, the activity still running.
        async with db_pool.acquire() as conn:
            hold = conn.transaction()
            await hold.start()
            await conn.execute("LOCK TABLE notifications IN SHARE ROW EXCLUSIVE MODE")
            started = await cases.start(request)
            handle = started.handle
            for _ in range(100):
                assert (await handle.query(W.status)).status == "received"
                if _query_only_first_task(await handle.fetch_history()):
                    break
                await asyncio.sleep(0.05)
            await hold.rollback()
        for _ in range(100):
            if (await handle.query(W.status)).status == "active":
                break
            await asyncio.sleep(0.05)
        history = await handle.fetch_history()
        await handle.terminate(reason="test done")

    assert _query_only_first_task(history)
    assert await replay_failure(history, client.data_converter) is None
    writes = await db_pool.fetchrow(
        "SELECT (SELECT count(*) FROM notifications WHERE case_id = $1) AS notices,"
        " (SELECT version FROM authorizations WHERE case_id = $1) AS version",
        handle.id,
    )
    assert (writes["notices"], writes["version"]) == (1, 1)
