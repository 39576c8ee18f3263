"""The fault tests' stack and inputs: the real stack (``python worker.py`` as a child
process, a Temporal dev server, PostgreSQL) with one part broken on purpose, then
counted in PostgreSQL.

- ``WorkerProcess``: ``python worker.py`` with its settings in the environment,
  killed with SIGKILL or stopped with SIGTERM like a deployment would;
- ``PgProxy``: a TCP proxy in front of PostgreSQL that the worker connects
  through, stopped (connections cut, connects refused) and started again to
  make the database unreachable without touching the shared server;
- synthetic requests, claim lines and clinical events (no real-looking PHI);
- ``eventually``: poll until a condition holds, with a deadline;
- ``table_counts``: rows per case in every table a case writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg

from domain.claim import ClaimLine
from domain.clinical_event import ClinicalEvent
from domain.request import PARequest
from examples import example_requests

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# ---------------------------------------------------------------------------
# The worker as a child process


@dataclass
class WorkerProcess:
    """``python worker.py`` against ``temporal_address`` and ``database_url``."""

    temporal_address: str
    database_url: str
    task_queue: str
    log_file: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TEMPORAL_", "DATABASE_", "CODEC_", "API_", "NOTIFY_"))
        }
        env.update(
            TEMPORAL_ADDRESS=self.temporal_address,
            TEMPORAL_NAMESPACE="default",
            TEMPORAL_TASK_QUEUE=self.task_queue,
            DATABASE_URL=self.database_url,
            CODEC_KEYS="",  # plain payloads: the test's client reads them as they are
            NOTIFY_CHANNEL="log",
            LOG_FORMAT="json",
            LOG_LEVEL="INFO",
            MEMBER_REF_KEY=MEMBER_REF_KEY,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def launch(self) -> int:
        """Start the child; return where its log stood before it (to find its own lines)."""
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "worker.py")],
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return offset

    def _logged_since(self, offset: int, text: bytes) -> bool:
        with open(self.log_file, "rb") as f:
            f.seek(offset)
            return text in f.read()

    async def start(self, within_s: float = 60.0) -> None:
        """Launch and wait until the worker logs that it polls its task queue."""
        offset = self.launch()
        assert self.process is not None
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self._logged_since(offset, b"worker started"):
                return
            await asyncio.sleep(0.1)
        self.kill()
        raise AssertionError(f"worker did not start in {within_s}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, activities cut wherever they are."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


# ---------------------------------------------------------------------------
# A TCP proxy in front of PostgreSQL


def _upstream_of(url: str) -> tuple[str, str | int]:
    """("unix", socket path) or (host, port) of the server a libpq-style URL names."""
    parts = urlsplit(url)
    host = parts.hostname or parse_qs(parts.query).get("host", [""])[0]
    port = parts.port or int(parse_qs(parts.query).get("port", ["5432"])[0])
    if not host or host.startswith("/"):
        return "unix", f"{host or '/tmp'}/.s.PGSQL.{port}"
    return host, port


def through_proxy(url: str, port: int) -> str:
    """``url`` with its server replaced by 127.0.0.1:``port`` (user and database kept)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    query = "&".join(
        f"{k}={v}"
        for k, values in parse_qs(parts.query).items()
        if k not in ("host", "port")
        for v in values
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


class PgProxy:
    """Forwards 127.0.0.1:``port`` to PostgreSQL; ``stop()`` makes the database unreachable.

    Stopped, it closes its listening socket (new connections are refused) and
    resets every open connection, which is what a worker sees when the
    database host goes away. ``start()`` listens on the same port again.
    """

    def __init__(self, upstream_url: str, port: int) -> None:
        self.upstream = _upstream_of(upstream_url)
        self.port = port
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self.connections = 0

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            transport = writer.transport
            if transport is not None:
                transport.abort()
        self._links.clear()
        await asyncio.sleep(0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.upstream[0] == "unix":
                up_reader, up_writer = await asyncio.open_unix_connection(str(self.upstream[1]))
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._links.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        self._links.difference_update((writer, up_writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()


# ---------------------------------------------------------------------------
# Synthetic input

MEMBER_REF_KEY = "fault-tests-member-ref-key"


def request(
    request_id: str,
    member_id: str,
    *,
    received_at: datetime,
    requested_start: date | None = None,
    **changes: Any,
) -> PARequest:
    """The CONTRACT.md example (an adult Ph- relapsed/refractory request, approved) with
    ``changes`` merged over it (examples/example_requests.py)."""
    return example_requests.parequest(
        request_id=request_id,
        member_id=member_id,
        received_at=received_at,
        requested_start=requested_start or received_at.date(),
        **changes,
    )


#: What each kind of case changes in the approvable request, and where it settles.
PEND = {"diagnosis": {"b_cell_precursor": None}}  # unknown fact -> pended
REVIEW = {"diagnosis": {"b_cell_precursor": False}}  # deny recommendation -> in_review
NOT_APPLICABLE = {"line_of_business": "medicare_part_b"}  # Appendix 2 -> closed


def claim(claim_id: str, member_id: str, dos: date, units: int = 35, line: int = 1) -> ClaimLine:
    return ClaimLine(
        claim_id=claim_id, line=line, member_id=member_id, date_of_service=dos,
        hcpcs="J9039", ndc="55513-0160-01", units=units, modifiers=["JZ"],
        icd10_codes=["C91.00"],
    )  # fmt: skip


def toxicity_event(event_id: str, day: date, grade: int = 1) -> ClinicalEvent:
    return ClinicalEvent(
        event_id=event_id, type="toxicity", date=day, toxicity={"kind": "crs", "grade": grade}
    )


# ---------------------------------------------------------------------------
# Waiting and counting


async def until_answered(send: Callable[[], Awaitable[T]], *, attempt_s: float = 20.0) -> T:
    """Send until an answer comes back, as an upstream system does across a crash.

    Each attempt gets ``attempt_s``; an attempt that fails or hangs (no worker,
    a cut connection) is abandoned and the same message is sent again.
    """
    while True:
        attempt = asyncio.ensure_future(send())
        # An abandoned attempt ends with an error nobody awaits: take it here.
        attempt.add_done_callback(lambda t: t.cancelled() or t.exception())
        try:
            done, _ = await asyncio.wait({attempt}, timeout=attempt_s)
        except asyncio.CancelledError:
            attempt.cancel()
            raise
        if attempt in done and attempt.exception() is None:
            return attempt.result()
        attempt.cancel()
        await asyncio.sleep(0.5)


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    within_s: float,
    every_s: float = 0.25,
    what: str = "condition",
) -> T:
    """Call ``check`` until it returns a truthy value; the last failure if it never does."""
    deadline = time.monotonic() + within_s
    last: BaseException | None = None
    while True:
        try:
            value = await check()
            if value:
                return value
            last = None
        except Exception as exc:  # reported below if it persists
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {within_s}s (last error: {last!r})")
        await asyncio.sleep(every_s)


TABLES = ("decisions", "claim_lines", "clinical_events", "notifications", "authorizations")


async def table_counts(conn: asyncpg.Connection, case_ids: list[str]) -> dict[str, dict[str, int]]:
    """{table: {case_id: rows}} for the given cases (0 when a case has none)."""
    out: dict[str, dict[str, int]] = {}
    for table in TABLES:
        rows = await conn.fetch(
            f"SELECT case_id, count(*)::int AS n FROM {table} "
            "WHERE case_id = ANY($1::text[]) GROUP BY case_id",
            case_ids,
        )
        found = {r["case_id"]: r["n"] for r in rows}
        out[table] = {case_id: found.get(case_id, 0) for case_id in case_ids}
    return out


def days(n: int) -> timedelta:
    return timedelta(days=n)


# ---------------------------------------------------------------------------
# A webhook receiver for the notifications channel


class WebhookReceiver:
    """A minimal HTTP server taking the notices' POSTs (``NOTIFY_CHANNEL=webhook``).

    ``hold = True`` keeps every request open without an answer (a slow
    receiver), so a delivery is in flight for as long as the test wants;
    otherwise each request is answered 200. ``keys`` lists the
    ``Idempotency-Key`` of every request received, in order.
    """

    def __init__(self) -> None:
        self.hold = False
        self.keys: list[str] = []
        self.arrived = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._held: list[asyncio.StreamWriter] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notices"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self._held:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(
                    line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if line
                )
                lowered = {k.lower(): v for k, v in headers.items()}
                await reader.readexactly(int(lowered.get("content-length", "0")))
                self.keys.append(lowered.get("idempotency-key", ""))
                self.arrived.set()
                if self.hold:
                    self._held.append(writer)
                    return
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.transport.abort()
