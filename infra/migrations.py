"""Schema migrations: plain SQL files in ``migrations/``, applied in name order.

DESIGN.md, Persistence. The worker and the API both call
:func:`apply_migrations` at start; the steps are:

1. take a session-level ``pg_advisory_lock`` (one fixed key), so when two
   processes start at once the second waits and then finds nothing to do;
2. create ``schema_migrations`` (name, checksum, applied_at) if missing;
3. apply each file not yet recorded, each in its own transaction together
   with its ``schema_migrations`` row, so a failed file leaves no trace;
4. refuse to start when an applied file was changed since (its SHA-256
   differs from the recorded one): edit the schema with a new file instead;
5. with ``runtime_role``, and connected as the schema's owner (the migration
   role), (re)apply the runtime role's grants (infra/db_roles.py).

Connected as the runtime role (``DATABASE_URL`` in production, when
``MIGRATION_DATABASE_URL`` names the owner), a start with nothing pending
only checks the record; anything pending is a ``MigrationError`` telling to
run ``priorauth migrate`` as the owner.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg
import structlog

from infra.db_roles import PrivilegeError, can_grant, grant_runtime

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any constant bigint; the same in every process of this system.
LOCK_KEY = 0x7072696F72617574  # "priorautH"

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """An applied migration file was changed, or a file failed to apply."""


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.sql") if p.is_file())


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


async def apply_migrations(
    dsn: str, directory: Path = MIGRATIONS_DIR, *, runtime_role: str | None = None
) -> list[str]:
    """Apply every pending migration in ``directory``; return the names newly applied.

    ``runtime_role``: the group role whose grants are (re)applied afterwards, when
    this connection owns the schema; None leaves privileges as they are.
    """
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            applied = await _apply_pending(conn, directory)
            if runtime_role and await can_grant(conn):
                try:
                    await grant_runtime(conn, runtime_role)
                except (PrivilegeError, asyncpg.PostgresError) as exc:
                    raise MigrationError(f"grants to {runtime_role} failed: {exc}") from exc
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


async def _apply_pending(conn: asyncpg.Connection, directory: Path) -> list[str]:
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        await conn.execute(_CREATE_TABLE)
    recorded = {
        r["name"]: r["checksum"]
        for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
    }
    applied: list[str] = []
    pending = [p.name for p in migration_files(directory) if p.name not in recorded]
    if pending and recorded and not await can_grant(conn):
        user = await conn.fetchval("SELECT current_user")
        raise MigrationError(
            f"{len(pending)} migration(s) pending ({', '.join(pending)}) and {user} does not "
            "own the schema: run `priorauth migrate` with MIGRATION_DATABASE_URL"
        )
    for path in migration_files(directory):
        sql = path.read_text(encoding="utf-8")
        digest = checksum(sql)
        if path.name in recorded:
            if recorded[path.name] != digest:
                raise MigrationError(
                    f"migration {path.name} changed after it was applied; add a new file instead"
                )
            continue
        try:
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                    path.name,
                    digest,
                )
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"migration {path.name} failed: {exc}") from exc
        log.info("migration applied", migration=path.name)
        applied.append(path.name)
    return applied
