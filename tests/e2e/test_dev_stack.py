"""`priorauth dev`: one command brings the stack up, and open cases survive a restart; it is
quiet (a short banner, service output in log files) and safe by default (no plaintext PHI in
Temporal unless encryption is turned off on purpose)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


def _start(
    data_dir: Path,
    ports: dict[str, int],
    database_url: str | None,
    *args: str,
    env_extra: dict[str, str] | None = None,
) -> subprocess.Popen:
    """`priorauth dev ARGS` on ``ports``; its stdout and stderr, merged, are ``proc.stdout``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("API_TOKENS", "TEMPORAL_ADDRESS", "CODEC_KEYS", "CODEC_UI_ORIGINS")
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env["DATA_DIR"] = str(data_dir)
    env["TEMPORAL_TASK_QUEUE"] = "dev-stack-test"
    env.update(env_extra or {})
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "dev",
         "--temporal-port", str(ports["temporal"]), "--ui-port", str(ports["ui"]),
         "--api-port", str(ports["api"]), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
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


def _drain(proc: subprocess.Popen) -> list[str]:
    """Keep reading the stack's output in the background (a full pipe would stall it)."""
    rest: list[str] = []
    threading.Thread(target=lambda: rest.extend(proc.stdout), daemon=True).start()
    return rest


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


# --- quiet and safe by default -------------------------------------------------------------

#: What the services print and the console must not show (initdb, pg_ctl, the Temporal CLI).
SERVICE_NOISE = ("initdb", "PG_VERSION", "pg_ctl", "postmaster", "Running commandline",
                 "Temporal CLI", "Temporal Server:", "Beginning worker shutdown")  # fmt: skip


def _banner(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("priorauth dev is up"))
    return lines[start:]


def _is_the_applications_own(line: str) -> bool:
    """A structlog event, the demo's summary, or `priorauth dev`'s own line."""
    if line.startswith(("priorauth dev: ", "demo: ", "  pa-DEMO-")):
        return True
    try:
        return "event" in json.loads(line)
    except ValueError:
        return False


def _demo_phi() -> dict[bytes, str]:
    """The demo members' names, member ids and dates of birth, as they would appear in clear
    (the demo is dated from today: yesterday's too, should the test straddle midnight)."""
    from commands.demo import demo_cases

    phi: dict[bytes, str] = {}
    today = datetime.now(UTC).date()
    for day in (today, today - timedelta(days=1)):
        for case in demo_cases(day):
            m = case.request.member
            phi[json.dumps(m.first_name).encode()] = "a demo first name"
            phi[m.last_name.encode()] = f"{case.case_id} last name"
            phi[m.member_id.encode()] = f"{case.case_id} member id"
            phi[m.date_of_birth.isoformat().encode()] = f"{case.case_id} date of birth"
    return phi


async def _raw_temporal(temporal_port: int) -> dict[tuple[str, str], list]:
    """Every run of every workflow on the server, read raw without the codec, by (workflow
    id, run id). Runs not continued-as-new are also queried, as the UI does."""
    from temporalio.api.enums.v1 import WorkflowExecutionStatus
    from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest

    from infra.temporal import connect
    from tests.raw_temporal import NAMESPACE, raw_case

    plain = await connect(f"127.0.0.1:{temporal_port}")
    assert plain.data_converter.payload_codec is None
    listing = await plain.workflow_service.list_workflow_executions(
        ListWorkflowExecutionsRequest(namespace=NAMESPACE, page_size=1000)
    )
    continued = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
    return {
        (info.execution.workflow_id, info.execution.run_id): await raw_case(
            plain,
            info.execution.workflow_id,
            info.execution.run_id,
            queries=info.status != continued,
        )
        for info in listing.executions
    }


def _start_input(messages: list) -> dict:
    """The start event's input of one run, as protobuf JSON: what the UI sends to the codec."""
    from google.protobuf import json_format

    [first_page, *_] = messages
    started = first_page.history.events[0].workflow_execution_started_event_attributes
    return json_format.MessageToDict(started.input)


def _found(phi: dict[bytes, str], messages: list) -> list[str]:
    blob = b"".join(message.SerializeToString() for message in messages)
    return sorted({what for value, what in phi.items() if value in blob})


def test_default_demo_stack_keeps_phi_out_of_temporal_and_prints_only_a_short_banner(
    tmp_path, database_url
):
    ports = {"temporal": free_port(), "ui": free_port(), "api": free_port()}
    api = f"http://127.0.0.1:{ports['api']}"
    data_dir = tmp_path / "data"

    proc = _start(data_dir, ports, database_url, "--demo")
    try:
        output = _wait_until_up(proc, within_s=300)
        _drain(proc)
        banner = _banner(output)
        text = "".join(output)

        # Quiet: a short banner, after the application's own events; service output in files.
        assert len(banner) <= 12, banner
        assert [word for word in SERVICE_NOISE if word in text] == []
        assert [line for line in output if line not in banner and not _is_the_applications_own(
            line.rstrip("\n"))] == []  # fmt: skip
        logs = data_dir / "logs"
        assert f"http://localhost:{ports['ui']}" in (logs / "temporal.log").read_text()
        assert str(logs) in "".join(banner)

        # Safe: encrypted with the data dir's own key, readable by its owner only.
        keys_file = data_dir / "codec-keys"
        assert "encryption      on" in "".join(banner)
        assert f"localhost:{ports['api']}/codec/login" in "".join(banner)
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((data_dir / "dev-token").stat().st_mode) == 0o600

        raw = asyncio.run(_raw_temporal(ports["temporal"]))
        assert {wid for wid, _ in raw} >= {f"pa-DEMO-{n}" for n in range(1001, 1021)}
        phi = _demo_phi()
        leaked = {run: found for run, messages in raw.items() if (found := _found(phi, messages))}
        assert leaked == {}, f"in clear in Temporal: {leaked}"

        # The UI is wired to the API's codec endpoint, which answers the UI's origin; a codec
        # session (the banner's instructions) decrypts what the UI shows: PHI, so the check
        # above is not vacuous.
        ui = f"http://127.0.0.1:{ports['ui']}"
        codec = httpx.get(f"{ui}/api/v1/settings", timeout=10).json()["Codec"]
        assert codec["Endpoint"] == f"http://localhost:{ports['api']}/codec"
        origin = f"http://localhost:{ports['ui']}"
        preflight = httpx.options(
            f"{api}/codec/decode",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=10,
        )
        assert preflight.headers.get("access-control-allow-origin") == origin
        token = (data_dir / "dev-token").read_text().strip()
        [demo_1001] = [messages for (wid, _), messages in raw.items() if wid == "pa-DEMO-1001"]
        with httpx.Client(base_url=api, timeout=10) as browser:
            opened = browser.post("/codec/session", headers={"Authorization": f"Bearer {token}"})
            assert opened.status_code == 204, opened.text
            decoded = browser.post(
                "/codec/decode", json=_start_input(demo_1001), headers={"Origin": origin}
            )
        assert decoded.status_code == 200, decoded.text
        plain = base64.b64decode(decoded.json()["payloads"][0]["data"])
        assert b"Member 1001" in plain and b"DM-1001" in plain
    finally:
        assert _stop(proc) == 0


def test_no_encryption_is_an_explicit_choice_the_banner_states(tmp_path):
    """`--no-encryption` (the embedded PostgreSQL here, whatever DATABASE_URL says: its initdb
    must stay off the console): no key is made, the banner says PHI is in clear, and it is."""
    ports = {"temporal": free_port(), "ui": free_port(), "api": free_port()}
    api = f"http://127.0.0.1:{ports['api']}"
    data_dir = tmp_path / "data"

    proc = _start(data_dir, ports, None, "--no-encryption")
    try:
        output = _wait_until_up(proc)
        _drain(proc)
        banner = "".join(_banner(output))
        assert "encryption      OFF (--no-encryption): PHI is in clear" in banner
        assert "/codec/login" not in banner
        assert [word for word in SERVICE_NOISE if word in "".join(output)] == []
        assert "initdb" in (data_dir / "logs" / "postgres.log").read_text()
        assert not (data_dir / "codec-keys").exists()
        ui = f"http://127.0.0.1:{ports['ui']}"
        assert httpx.get(f"{ui}/api/v1/settings", timeout=10).json()["Codec"]["Endpoint"] == ""

        token = (data_dir / "dev-token").read_text().strip()
        request = make_request()
        created = httpx.post(
            f"{api}/cases", json=request, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert created.status_code == 201, created.text
        raw = asyncio.run(_raw_temporal(ports["temporal"]))
        [messages] = [m for (wid, _), m in raw.items() if wid == created.json()["case_id"]]
        member = request["member"]
        assert _found({member["member_id"].encode(): "member id"}, messages) == ["member id"]
    finally:
        assert _stop(proc) == 0
