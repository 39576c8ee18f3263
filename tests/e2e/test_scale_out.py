"""Scale-out: two worker processes on one task queue share the cases; one dies, none is lost.

DESIGN.md, Running it: "workers are stateless; run more of them". Two
``python worker.py`` processes (configured only through TEMPORAL_ADDRESS,
DATABASE_URL and TEMPORAL_TASK_QUEUE) poll the test's task queue on the
session's dev server. A batch of approvable cases is started; once both
workers have taken part, one is SIGKILLed mid-batch. Every case must still
become ``active`` and PostgreSQL must hold exactly one decision row per case:
no case lost, no decision written twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from benchmarks.stack import WorkerProcess, wait_for_pollers, worker_env
from infra.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import make_request

pytestmark = pytest.mark.slow

BATCH = 60
KILL_AFTER = 10  # decisions recorded before one worker is killed


@pytest.fixture
def workers(dev_server, db_url, task_queue, tmp_path) -> Iterator[list[WorkerProcess]]:
    procs = [
        WorkerProcess(
            f"worker-{n}",
            [sys.executable, str(PROJECT_ROOT / "worker.py")],
            worker_env(
                temporal_address=dev_server.address,
                database_url=db_url,
                task_queue=task_queue,
                LOG_LEVEL="INFO",
            ),
            tmp_path / f"worker-{n}.log",
        )
        for n in (1, 2)
    ]
    for proc in procs:
        proc.start()
    yield procs
    for proc in procs:
        proc.stop()


def identity(proc: WorkerProcess) -> str:
    """The SDK's default worker identity: ``<pid>@<host>``."""
    return f"{proc.pid}@{socket.gethostname()}"


async def identities_in(client: Client, workflow_id: str) -> set[str]:
    """The workers that completed a workflow task or started an activity of the case."""
    seen: set[str] = set()
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            seen.add(event.workflow_task_completed_event_attributes.identity)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            seen.add(event.activity_task_started_event_attributes.identity)
    return seen


async def decided_cases(pool: asyncpg.Pool, case_ids: list[str]) -> int:
    return await pool.fetchval(
        "SELECT count(DISTINCT case_id) FROM decisions WHERE case_id = ANY($1::text[])", case_ids
    )


async def wait_until(predicate, within_s: float, every_s: float = 0.25) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while loop.time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(every_s)
    return False


async def test_two_workers_share_the_cases_and_one_survives_the_others_death(
    dev_client: Client, db_pool: asyncpg.Pool, task_queue: str, workers: list[WorkerProcess]
):
    from cases.client import CaseClient
    from domain.request import PARequest

    for proc in workers:
        await wait_for_pollers(dev_client, task_queue, within_s=60, watch=proc)
    await wait_for_pollers(dev_client, task_queue, within_s=60, count=2)

    cases = CaseClient.from_settings(dev_client, Settings(), task_queue=task_queue)
    batch = uuid.uuid4().hex[:6]
    requests = [PARequest.model_validate(make_request(f"SCALE-{batch}-{n}")) for n in range(BATCH)]
    started = await asyncio.gather(*(cases.start(r) for r in requests))
    case_ids = [s.case_id for s in started]

    # One worker is killed mid-batch, once the first decisions are recorded ...
    assert await wait_until(
        lambda: _decided_at_least(db_pool, case_ids, KILL_AFTER), within_s=120, every_s=0.05
    ), "the first decisions were not recorded"
    victim, survivor = workers
    os.kill(victim.pid, signal.SIGKILL)
    victim.process.wait()
    done_before_kill = {
        r["case_id"]
        for r in await db_pool.fetch(
            "SELECT DISTINCT case_id FROM decisions WHERE case_id = ANY($1::text[])", case_ids
        )
    }
    assert len(done_before_kill) < BATCH, "the batch finished before the kill"

    # ... after both had taken part.
    seen: set[str] = set()
    for case_id in done_before_kill:
        seen |= await identities_in(dev_client, case_id)
    assert {identity(victim), identity(survivor)} <= seen, (
        f"both workers should have processed cases; saw {seen}"
    )

    # The survivor finishes every case: each becomes active (an approval) ...
    active_query = f"TaskQueue = '{task_queue}' AND AuthStatus = 'active'"

    async def all_active() -> bool:
        return (await dev_client.count_workflows(active_query)).count == BATCH

    assert await wait_until(all_active, within_s=180, every_s=1.0), (
        f"{(await dev_client.count_workflows(active_query)).count}/{BATCH} cases active; "
        f"survivor log:\n{survivor.log_tail()}"
    )
    assert survivor.alive()

    # ... with exactly one decision row each: none lost, none written twice.
    rows = await db_pool.fetch(
        "SELECT case_id, count(*) AS n, array_agg(determination) AS determinations "
        "FROM decisions WHERE case_id = ANY($1::text[]) GROUP BY case_id",
        case_ids,
    )
    assert sorted(r["case_id"] for r in rows) == sorted(case_ids)
    assert all(r["n"] == 1 for r in rows), [r for r in rows if r["n"] != 1]
    assert {d for r in rows for d in r["determinations"]} == {"approve"}

    # The cases left unfinished at the kill were finished by the survivor.
    for case_id in sorted(set(case_ids) - done_before_kill)[:5]:
        assert identity(survivor) in await identities_in(dev_client, case_id)


async def _decided_at_least(pool: asyncpg.Pool, case_ids: list[str], n: int) -> bool:
    return await decided_cases(pool, case_ids) >= n
