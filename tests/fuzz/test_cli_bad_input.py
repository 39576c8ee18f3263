"""Bad input through the `priorauth` CLI, against the API over real HTTP (uvicorn).

A file the API refuses as invalid (422) is one line on stderr naming every
bad field, exit 2, as is a file that is not a JSON object; never a traceback,
never exit 3 (that is for an API that failed), and nothing is started.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cli
from tests.api_tokens import TOKENS
from tests.fuzz.conftest import Api
from tests.fuzz.fuzz_inputs import (
    CLAIMS,
    EVENT_BODIES,
    JSON,
    REQUESTS,
    TEXT,
    ClaimLine,
    ClinicalEventBody,
    PARequest,
    expected_fields,
    request_body,
)
from tests.served_api import served_api

CLI_FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class _ThreadStreams:
    """sys.stdout/sys.stderr routing the CLI thread's writes to its own buffer."""

    def __init__(self, original, buffers: dict[int, io.StringIO]) -> None:
        self._original = original
        self._buffers = buffers

    def write(self, text: str) -> int:
        return self._buffers.get(threading.get_ident(), self._original).write(text)

    def flush(self) -> None:
        self._original.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str):
        return getattr(self._original, name)


class Cli:
    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.tmp = tmp
        self.outs: dict[int, io.StringIO] = {}
        self.errs: dict[int, io.StringIO] = {}

    def run(self, *argv: str, file: Any = None, raw: str | None = None) -> tuple[int, str, str]:
        """``priorauth ARGV [FILE]`` in this (non-loop) thread: exit code, stdout, stderr."""
        args = [argv[0], "--api-url", self.url, "--token", TOKENS["admin"], *argv[1:]]
        if file is not None or raw is not None:
            path = self.tmp / "input.json"
            path.write_text(raw if raw is not None else json.dumps(file), encoding="utf-8")
            args.append(str(path))
        me = threading.get_ident()
        self.outs[me], self.errs[me] = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout = _ThreadStreams(saved[0], self.outs)
        sys.stderr = _ThreadStreams(saved[1], self.errs)
        try:
            code = cli.main(args)
        finally:
            sys.stdout, sys.stderr = saved
        return code, self.outs.pop(me).getvalue(), self.errs.pop(me).getvalue()


@pytest_asyncio.fixture
async def priorauth(api: Api, tmp_path: Path) -> AsyncIterator[Cli]:
    async with served_api(api.settings, api.client, api.pool) as url:
        yield Cli(url, tmp_path)


def assert_one_line_refusal(code: int, out: str, err: str, command: str, fields: set[str]):
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"priorauth {command}: 422 invalid:"), err
    for field in fields:
        assert f"{field}: " in lines[0], (field, err)
    assert "Traceback" not in err


async def test_invalid_files_are_one_line_naming_each_field_and_start_nothing(
    api: Api, priorauth: Cli
):
    @CLI_FUZZ
    @given(body=REQUESTS)
    def submit(body: Any) -> None:
        fields = expected_fields(PARequest, body)
        assume(fields is not None and isinstance(body, dict) and printable_keys(body))
        assert_one_line_refusal(*priorauth.run("submit", file=body), "submit", fields)

    @CLI_FUZZ
    @given(body=CLAIMS)
    def claim(body: Any) -> None:
        fields = expected_fields(ClaimLine, body)
        assume(fields is not None and isinstance(body, dict) and printable_keys(body))
        code, out, err = priorauth.run("claim", "pa-CLI-NONE", file=body)
        assert_one_line_refusal(code, out, err, "claim", fields)

    @CLI_FUZZ
    @given(body=EVENT_BODIES)
    def event(body: Any) -> None:
        fields = expected_fields(ClinicalEventBody, body)
        assume(fields is not None and isinstance(body, dict) and printable_keys(body))
        code, out, err = priorauth.run("event", "pa-CLI-NONE", file=body)
        assert_one_line_refusal(code, out, err, "event", fields)

    for check in (submit, claim, event):
        await api.run_examples(check)
    assert await api.workflow_count() == 0


async def test_a_refusal_stays_one_line_when_a_field_name_holds_control_characters(
    api: Api, priorauth: Cli
):
    """The API names an unknown field as sent; the CLI must not print it raw.

    A newline in it breaks the one-line refusal, an ANSI escape in it reaches
    the user's terminal.
    """
    for key in ("x\ny", "x\ry", "\x1b[31mred"):
        body = {**request_body(), key: 1}
        code, out, err = await asyncio.to_thread(priorauth.run, "submit", file=body)
        assert (code, out) == (2, ""), err
        assert len(err.strip().splitlines()) == 1, err
        assert "\x1b" not in err


async def test_files_that_are_not_a_json_object_are_one_line_exit_2(api: Api, priorauth: Cli):
    @CLI_FUZZ
    @given(
        command=st.sampled_from([("submit",), ("claim", "pa-CLI-NONE"), ("event", "pa-CLI-NONE")]),
        raw=JSON.filter(lambda v: not isinstance(v, dict)).map(json.dumps)
        | TEXT.filter(lambda t: not _is_json_object(t)),
    )
    def check(command: tuple[str, ...], raw: str) -> None:
        code, out, err = priorauth.run(*command, raw=raw)
        assert code == 2, (code, out, err)
        assert out == ""
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"priorauth {command[0]}: ")
        assert "Traceback" not in err

    await api.run_examples(check)
    assert await api.workflow_count() == 0


def printable_keys(value: Any) -> bool:
    """No control characters in any key (those are tested on their own, above)."""
    if isinstance(value, dict):
        return all(k.isprintable() and printable_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(printable_keys(v) for v in value)
    return True


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
