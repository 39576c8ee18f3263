"""Workflow tests: the real workflow and activities on a time-skipping Temporal server.

- ``worker``: a worker from ``worker.build_worker`` on the per-test task queue,
  with the real activities against the per-test PostgreSQL database.
- ``case``: starts cases whose business clock is anchored at the server's
  current time (day 0 = the request's ``received_at``), sends messages at a
  business day, and at teardown replays every run of every case it started
  with ``Replayer`` (DESIGN.md: every workflow test's history is replayed).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from cases.client import CaseClient, case_histories
from domain.claim import ClaimLine
from domain.scenario import Scenario
from examples import example_requests
from infra.settings import Settings
from infra.temporal import data_converter
from simulation.runner import SimulationRun, run_scenario
from workflows import WORKFLOWS

ROOT = Path(__file__).resolve().parents[2]

SCENARIOS = ROOT / "examples" / "scenarios"


async def replay_all(client: Client, workflow_ids: list[str]) -> list[int]:
    """Replay every run of every case; return the number of events of each run."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter())
    sizes: list[int] = []
    for workflow_id in workflow_ids:
        for history in await case_histories(client, workflow_id):
            sizes.append(len(history.events))
            await replayer.replay_workflow(history)
    return sizes


class Cases:
    """Starts cases on the time-skipping server and moves the business clock."""

    def __init__(self, env: WorkflowEnvironment, task_queue: str, settings: Settings) -> None:
        self.env = env
        self.task_queue = task_queue
        self.settings = settings
        self.workflow_ids: list[str] = []
        self.anchor: datetime | None = None

    async def start(
        self,
        track: str = "relapsed_refractory",
        *,
        config: dict[str, Any] | None = None,
        **changes: Any,
    ) -> WorkflowHandle:
        """Start a case of ``track`` (examples/example_requests.py) at business day 0.

        ``changes`` are merged over the request, ``config`` over the CaseConfig.
        """
        changes.setdefault("request_id", f"REQ-{uuid.uuid4().hex[:10]}")  # one server, many tests
        request = example_requests.parequest(track, **changes)
        self.anchor = await self.env.get_current_time()
        cases = CaseClient.from_settings(
            self.env.client, self.settings, task_queue=self.task_queue, clock_anchor=self.anchor
        )
        # The clocks of the request's drug's policy, with the test's changes.
        config = cases.config_for(request).model_copy(update=config or {})
        started = await cases.start(request, config=config)
        self.workflow_ids.append(started.case_id)
        return started.handle

    async def to_day(self, day: float) -> None:
        """Skip time until business day ``day`` (days after received_at) has begun."""
        assert self.anchor is not None
        target = self.anchor + timedelta(days=day)
        now = await self.env.get_current_time()
        if target > now:
            await self.env.sleep(target - now)

    async def scenario(self, name: str | dict[str, Any]) -> SimulationRun:
        """Run ``examples/scenarios/<name>.json`` (or a scenario given as a dict) as
        ``priorauth simulate`` does."""
        if isinstance(name, dict):
            scenario = Scenario.model_validate(name)
        else:
            scenario = Scenario.model_validate_json((SCENARIOS / f"{name}.json").read_text())
        run = await run_scenario(
            self.env, scenario, task_queue=self.task_queue, settings=self.settings
        )
        self.workflow_ids.append(run.workflow_id)
        return run

    def claim(self, claim_id: str, day: str, units: int = 35, **extra: Any) -> ClaimLine:
        return ClaimLine.model_validate(
            {
                "claim_id": claim_id,
                "line": 1,
                "member_id": "M-1",
                "date_of_service": day,
                "hcpcs": "J9039",
                "ndc": "55513-0160-01",
                "units": units,
                "icd10_codes": ["C91.00"],
                **extra,
            }
        )


@pytest_asyncio.fixture
async def settings() -> Settings:
    return Settings(notify_channel="log")


@pytest_asyncio.fixture
async def worker(time_skipping_env, db_pool, settings, task_queue) -> AsyncIterator[Any]:
    from worker import build_worker

    async with build_worker(
        time_skipping_env.client, db_pool, settings, task_queue=task_queue
    ) as w:
        yield w


@pytest_asyncio.fixture
async def cases(time_skipping_env, worker, task_queue, settings) -> AsyncIterator[Cases]:
    """Cases of one test; at its end every run of each is replayed, then terminated."""
    started = Cases(time_skipping_env, task_queue, settings)
    yield started
    await replay_all(time_skipping_env.client, started.workflow_ids)
    for workflow_id in started.workflow_ids:
        # Nothing of one test may keep timers running on the shared server.
        with contextlib.suppress(RPCError):
            await time_skipping_env.client.get_workflow_handle(workflow_id).terminate("test over")
