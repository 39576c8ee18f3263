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
``DEFAULT_MAX_EXAMPLES``: a few minutes on two cores); ``SCHEMATHESIS_SEED``
replays a run (each run prints its seed).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from tests.api_tokens import TOKENS

DEFAULT_MAX_EXAMPLES = 30
CONFIG = Path(__file__).with_name("schemathesis.toml")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
#: The longest the API itself waits for a case (api/case_gateway.py), and some.
REQUEST_TIMEOUT_S = 45

pytestmark = pytest.mark.slow


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


async def test_the_api_answers_as_its_openapi_document_says(live_api, tmp_path):
    env = {**os.environ, "PRIORAUTH_SCHEMATHESIS_TOKEN": TOKENS["admin"]}
    process = await asyncio.create_subprocess_exec(
        *schemathesis_command(live_api.url),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()  # the API keeps serving on this loop meanwhile
    report = output.decode(errors="replace")
    print(report)

    assert process.returncode == 0, f"schemathesis found failures:\n{report}"
    for phase in PHASES:
        assert re.search(rf"✅ {phase}", report, re.IGNORECASE), f"{phase} did not pass:\n{report}"
