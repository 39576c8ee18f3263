"""Fixtures of the fault tests (helpers in ``fault_stack``).

- ``workers``: starts ``python worker.py`` child processes on the test's task
  queue and kills whatever is left of them at teardown;
- ``fault_settings``: the settings of the cases the test starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.settings import Settings
from tests.faults.fault_stack import MEMBER_REF_KEY, WorkerProcess


class Workers:
    def __init__(self, log_dir: Path, task_queue: str) -> None:
        self.log_dir = log_dir
        self.task_queue = task_queue
        self.started: list[WorkerProcess] = []

    async def start(self, temporal_address: str, database_url: str, **env: str) -> WorkerProcess:
        worker = WorkerProcess(
            temporal_address=temporal_address,
            database_url=database_url,
            task_queue=self.task_queue,
            log_file=self.log_dir / f"worker-{len(self.started) + 1}.log",
            extra_env=env,
        )
        self.started.append(worker)
        await worker.start()
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_file.name}\n{w.log_tail()}" for w in self.started)


@pytest.fixture
def workers(tmp_path: Path, task_queue: str) -> Iterator[Workers]:
    started = Workers(tmp_path, task_queue)
    yield started
    for worker in started.started:
        worker.kill()


@pytest.fixture
def fault_settings(task_queue: str) -> Settings:
    return Settings(temporal_task_queue=task_queue, member_ref_key=MEMBER_REF_KEY)
