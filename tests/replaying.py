"""Replay a case's history under the worker's own sandbox, as a restarted worker would."""

from __future__ import annotations

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

import worker
from workflows import WORKFLOWS


async def replay_failure(history: WorkflowHistory, converter: DataConverter) -> Exception | None:
    """Why ``history`` does not replay on today's workflow code (None: it replays)."""
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=converter, workflow_runner=worker.workflow_runner()
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure
