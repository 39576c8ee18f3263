"""Fixtures of the bad-input tests: the real API on the real dev server and PostgreSQL.

Hypothesis runs its examples in a worker thread (``Api.run_examples``) while
the event loop keeps serving the API, the Temporal client and, for live
cases, an in-process worker; each example calls the API through
``Api.post`` (run on the loop, waited for from the thread).

- ``api``: the FastAPI app over ASGI, no worker: enough for input that must be
  refused before any case is touched;
- ``live_case``: the same API with a worker, and one active case to send
  claims, events and actions to.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from infra.settings import Settings
from tests.api_tokens import API_TOKENS, auth
from tests.fuzz.fuzz_inputs import claim_body, request_body

ROLE_OF_ROUTE = {
    "info": "intake",
    "review": "reviewer",
    "appeal": "intake",
    "withdraw": "intake",
    "renewals": "intake",
    "extensions": "reviewer",
    "claims": "claims",
    "events": "clinical",
}


@dataclass
class Api:
    http: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    client: Client
    pool: asyncpg.Pool
    settings: Settings

    async def apost(self, path: str, body: Any, role: str = "admin") -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {**auth(role), "content-type": "application/json"}
        return await self.http.post(path, content=content, headers=headers)

    def post(self, path: str, body: Any, role: str = "admin") -> httpx.Response:
        """From a Hypothesis thread: the call runs on the API's loop."""
        return self.call(self.apost(path, body, role))

    def call(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    async def run_examples(self, test: Callable[[], None]) -> None:
        """Run a @given-decorated function off the loop, so the loop keeps serving."""
        await asyncio.to_thread(test)

    async def workflow_count(self) -> int:
        query = f"TaskQueue = '{self.settings.temporal_task_queue}'"
        return (await self.client.count_workflows(query)).count


@pytest.fixture
def fuzz_settings(task_queue: str) -> Settings:
    return Settings(
        temporal_task_queue=task_queue, api_tokens=API_TOKENS, member_ref_key="fuzz-member-ref-key"
    )


@pytest_asyncio.fixture
async def api(dev_client, db_pool, fuzz_settings) -> AsyncIterator[Api]:
    from api.app import create_app

    app = create_app(fuzz_settings, client=dev_client, pool=db_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=60) as h:
        yield Api(h, asyncio.get_running_loop(), dev_client, db_pool, fuzz_settings)


@dataclass
class LiveCase:
    api: Api
    case_id: str
    member_id: str
    today: str

    def claim(self, **changes: Any) -> dict[str, Any]:
        return {**claim_body(self.member_id, self.today), **changes}

    async def footprint(self) -> dict[str, Any]:
        """What any accepted message would change: history, rows, units."""
        history = await self.api.client.get_workflow_handle(self.case_id).fetch_history()
        rows = {}
        for table in ("decisions", "claim_lines", "clinical_events", "notifications"):
            rows[table] = await self.api.pool.fetchval(
                f"SELECT count(*) FROM {table} WHERE case_id = $1", self.case_id
            )
        return {"events": len(history.events), "rows": rows}


@pytest_asyncio.fixture
async def live_case(api: Api) -> AsyncIterator[LiveCase]:
    """An active case served by an in-process worker; terminated afterwards."""
    import worker

    today = datetime.now(UTC).date().isoformat()
    rid = f"FUZZ-{uuid.uuid4().hex[:10]}"
    body = request_body(rid, f"M-{rid}")
    body["received_at"] = datetime.now(UTC).isoformat()
    body["service"]["requested_start"] = today
    async with worker.build_worker(api.client, api.pool, api.settings):
        r = await api.apost("/cases", body, role="intake")
        assert r.status_code == 201, r.text
        case = LiveCase(api, r.json()["case_id"], f"M-{rid}", today)
        for _ in range(100):
            got = await api.http.get(f"/cases/{case.case_id}", headers=auth("read-only"))
            if got.status_code == 200 and got.json()["status"] == "active":
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the fuzz case did not become active: {got.text}")
        try:
            yield case
        finally:
            await api.client.get_workflow_handle(case.case_id).terminate("fuzz test over")
