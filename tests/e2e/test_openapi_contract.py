"""The OpenAPI document tells the truth (CONTRACT.md, Strict types; issue #12).

Schemathesis runs against the real stack (the API served by uvicorn on a free
port -> Temporal dev server -> worker -> PostgreSQL) with every check and every
phase: the document's examples, its coverage of each constraint's edges,
random valid and invalid requests, and stateful sequences that follow the
document's links from ``POST /cases`` to the case's other routes. Every
answer must be one the document lists, in the shape it gives; every request
the document calls valid must be taken (or refused for the case's state, 409),
and every request it calls invalid refused.

``SCHEMATHESIS_MAX_EXAMPLES`` bounds the examples per operation (default
``DEFAULT_MAX_EXAMPLES``: under a minute on two cores); ``SCHEMATHESIS_SEED``
replays a run (each run prints its seed); ``SCHEMATHESIS_TIMEOUT_S`` (default 900)
ends a run that is stuck.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.api_tokens import TOKENS
from tests.served_api import served_api

DEFAULT_MAX_EXAMPLES = 30
CONFIG = Path(__file__).with_name("schemathesis.toml")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
#: The longest the API itself waits for a case (cases/client.py), and some.
REQUEST_TIMEOUT_S = 45
#: A run that takes longer is stuck (a healthy one takes well under a minute at the default).
RUN_TIMEOUT_S = int(os.environ.get("SCHEMATHESIS_TIMEOUT_S", "900"))

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture
async def api_url(runtime_pool, settings) -> AsyncIterator[str]:
    """The stack on a Temporal dev server of its own, the API served over HTTP (the worker
    and the API connect to PostgreSQL as the runtime role, as in production).

    Not the session's dev server: ``GET /cases`` lists every case on the
    server, and schemathesis follows the ids it lists; cases other tests left
    behind have no worker any more, so each call on them would wait for the
    API's deadline (504) instead of testing anything.
    """
    import worker
    from infra.devserver import DevServer, free_port
    from infra.temporal import connect

    server = DevServer(port=free_port(), ui_port=None)
    await server.start()
    try:
        client = await connect(server.address)
        async with (
            worker.build_worker(client, runtime_pool, settings),
            served_api(settings, client, runtime_pool) as url,
        ):
            yield url
    finally:
        server.stop()


def schemathesis_command(url: str) -> list[str]:
    cli = Path(sys.executable).with_name("schemathesis")
    command = [
        str(cli), "--config-file", str(CONFIG), "--no-color",
        "run", f"{url}/openapi.json",
        "--checks", "all",
        "--phases", ",".join(PHASES),
        "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", str(DEFAULT_MAX_EXAMPLES)),
        "--request-timeout", str(REQUEST_TIMEOUT_S),
        "--workers", "1",
    ]  # fmt: skip
    if seed := os.environ.get("SCHEMATHESIS_SEED"):
        command += ["--seed", seed]
    return command


async def test_the_api_answers_as_its_openapi_document_says(api_url, tmp_path):
    env = {**os.environ, "PRIORAUTH_SCHEMATHESIS_TOKEN": TOKENS["admin"]}
    process = await asyncio.create_subprocess_exec(
        *schemathesis_command(api_url),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = bytearray()

    async def read_all() -> None:
        while chunk := await process.stdout.read(65536):
            output.extend(chunk)

    try:  # the API keeps serving on this loop meanwhile
        await asyncio.wait_for(asyncio.gather(read_all(), process.wait()), RUN_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"schemathesis ran over {RUN_TIMEOUT_S} s:\n{output.decode(errors='replace')}")
    report = output.decode(errors="replace")
    print(report)

    assert process.returncode == 0, f"schemathesis found failures:\n{report}"
    for phase in PHASES:
        assert re.search(rf"✅ {phase}", report, re.IGNORECASE), f"{phase} did not pass:\n{report}"
