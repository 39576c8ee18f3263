"""`priorauth dev`: one command brings the stack up, and open cases survive a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.devserver import free_port
from infra.postgres import create_database, drop_database
from tests.e2e.conftest import make_request

pytestmark = pytest.mark.slow


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """On a configured server, a database of the test's own (the stack migrates it), dropped
    after; without one, None: the stack's embedded PostgreSQL under DATA_DIR."""
    admin = os.environ.get("DATABASE_URL")
    if not admin:
        yield None
        return
    name = f"priorauth_devstack_{uuid.uuid4().hex[:10]}"
    url = asyncio.run(create_database(admin, name))
    try:
        yield url
    finally:
        asyncio.run(drop_database(admin, name))


def _start(data_dir: Path, ports: dict[str, int], database_url: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("API_TOKENS", "TEMPORAL_ADDRESS")}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env["DATA_DIR"] = str(data_dir)
    env["TEMPORAL_TASK_QUEUE"] = "dev-stack-test"
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "dev",
         "--temporal-port", str(ports["temporal"]), "--ui-port", str(ports["ui"]),
         "--api-port", str(ports["api"])],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip


def _wait_until_up(proc: subprocess.Popen, within_s: float = 90.0) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Ctrl-C stops everything"):
            return lines
    raise AssertionError(f"priorauth dev did not come up: {''.join(lines)[-2000:]}")


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def _case_status(api: str, token: str, case_id: str, within_s: float = 30.0) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    status = ""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        reply = httpx.get(f"{api}/cases/{case_id}", headers=headers, timeout=10)
        if reply.status_code == 200:
            status = reply.json()["status"]
            if status == "active":
                return status
        time.sleep(0.3)
    return status


def test_dev_brings_up_ui_and_api_and_open_cases_survive_a_restart(tmp_path, database_url):
    ports = {"temporal": free_port(), "ui": free_port(), "api": free_port()}
    api = f"http://127.0.0.1:{ports['api']}"
    data_dir = tmp_path / "data"

    proc = _start(data_dir, ports, database_url)
    try:
        banner = "".join(_wait_until_up(proc))
        assert f"http://localhost:{ports['ui']}" in banner
        token = (data_dir / "dev-token").read_text().strip()
        assert f"PRIORAUTH_TOKEN={token}" in banner
        assert httpx.get(f"http://127.0.0.1:{ports['ui']}/", timeout=10).status_code == 200
        assert httpx.get(f"{api}/healthz", timeout=10).json() == {"status": "ok"}

        request = make_request()
        created = httpx.post(
            f"{api}/cases", json=request, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert created.status_code == 201, created.text
        case_id = created.json()["case_id"]
        assert _case_status(api, token, case_id) == "active"
    finally:
        assert _stop(proc) == 0

    assert (data_dir / "temporal.db").exists()
    proc = _start(data_dir, ports, database_url)
    try:
        _wait_until_up(proc)
        assert _case_status(api, token, case_id) == "active"
    finally:
        assert _stop(proc) == 0
