"""The end-to-end stack: API (in process) -> Temporal dev server -> worker -> PostgreSQL.

``stack`` runs a real worker on the test's task queue against the session's
dev server and the test's fresh database, and an ``httpx.AsyncClient`` talking
to the FastAPI app over ASGI (a token per person or system: ``tests.api_tokens``).
The worker and the API connect as the runtime role, as in production; ``pool``
is the owner's, for the tests' own reads.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from examples import example_requests
from infra.settings import Settings
from tests.api_tokens import API_TOKENS, auth
from tests.served_api import served_api


def today() -> date:
    return datetime.now(UTC).date()


def make_request(
    request_id: str | None = None,
    *,
    start: date | None = None,
    base: str = "request-approve.json",
    **changes: Any,
) -> dict[str, Any]:
    """An example request (examples/example_requests.py) with a unique id and member,
    received at 09:00 UTC on ``start`` (default today) and starting then.

    ``changes`` are dotted paths (``diagnosis__mrd_percent`` for ``diagnosis.mrd_percent``).
    """
    rid = request_id or f"E2E-{uuid.uuid4().hex[:10]}"
    start = start or today()
    return example_requests.request(
        example_file=base,
        request_id=rid,
        member_id=f"M-{rid}",
        received_at=datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9),
        requested_start=start,
        paths={dotted.replace("__", "."): value for dotted, value in changes.items()},
    )


def claim_for(request: dict[str, Any], line: int = 1, **changes: Any) -> dict[str, Any]:
    body = {
        "claim_id": f"CLM-{request['request_id']}",
        "line": line,
        "member_id": request["member"]["member_id"],
        "date_of_service": request["service"]["requested_start"],
        "hcpcs": "J9039",
        "ndc": "55513-0160-01",
        "units": 63,
        "modifiers": ["JZ"],
        "icd10_codes": ["C91.00"],
    }
    body.update(changes)
    return body


@dataclass
class Stack:
    http: httpx.AsyncClient
    client: Client
    pool: asyncpg.Pool
    settings: Settings
    runtime_pool: asyncpg.Pool | None = None

    async def submit(self, request: dict[str, Any], expect: int = 201) -> dict[str, Any]:
        r = await self.http.post("/cases", json=request, headers=auth("intake"))
        assert r.status_code == expect, r.text
        return r.json()

    async def case(self, case_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/cases/{case_id}", headers=auth("read-only"))
        assert r.status_code == 200, r.text
        return r.json()

    async def wait_status(self, case_id: str, wanted: str, within_s: float = 20.0) -> str:
        status = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while loop.time() < deadline:
            r = await self.http.get(f"/cases/{case_id}", headers=auth("reviewer"))
            if r.status_code == 200:
                status = r.json()["status"]
                if status == wanted:
                    return status
            await asyncio.sleep(0.2)
        return status or "unknown"

    async def workflow_count(self, query: str, within_s: float = 0.0) -> int:
        """Visibility count for ``query`` (polled until non-zero for ``within_s``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while True:
            count = (await self.client.count_workflows(query)).count
            if count or loop.time() >= deadline:
                return count
            await asyncio.sleep(0.2)


def e2e_settings(task_queue: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {"api_tokens": API_TOKENS, "member_ref_key": "e2e-member-ref-key"}
    return Settings(temporal_task_queue=task_queue, **{**fields, **overrides})


@pytest.fixture
def settings(task_queue: str) -> Settings:
    return e2e_settings(task_queue)


@pytest_asyncio.fixture
async def stack(dev_client, db_pool, runtime_pool, settings) -> AsyncIterator[Stack]:
    """A worker on this test's task queue and the API over ASGI, both as the runtime role."""
    import worker
    from api.app import create_app

    app = create_app(settings, client=dev_client, pool=runtime_pool)
    transport = httpx.ASGITransport(app=app)
    async with (
        worker.build_worker(dev_client, runtime_pool, settings),
        httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=60) as http,
    ):
        yield Stack(
            http=http,
            client=dev_client,
            pool=db_pool,
            settings=settings,
            runtime_pool=runtime_pool,
        )


@pytest_asyncio.fixture
async def api_only(dev_client, runtime_pool, settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API without a worker: enough for what is refused before any case is touched."""
    from api.app import create_app

    app = create_app(settings, client=dev_client, pool=runtime_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http


@dataclass
class LiveApi:
    """The API served over real HTTP (uvicorn on a free port), for the CLI."""

    url: str
    stack: Stack


@pytest_asyncio.fixture
async def live_api(stack) -> AsyncIterator[LiveApi]:
    async with served_api(stack.settings, stack.client, stack.runtime_pool) as url:
        yield LiveApi(url=url, stack=stack)
