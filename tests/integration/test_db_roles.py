"""Least privilege in PostgreSQL (infra/db_roles.py): the runtime role adds rows, never removes.

``db_pool`` is the owner (the migration role); ``runtime_pool`` logs in as a
member of this session's runtime group role, as the worker and the API do.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from activities.store import CaseStore
from domain.policy_registry import default_registry
from infra.db_roles import APPEND_ONLY, SESSIONS, WORKING, PrivilegeError, grant_runtime
from infra.migrations import MIGRATIONS_DIR, MigrationError, apply_migrations
from tests.conftest import RUNTIME_ROLE
from tests.integration.case_factories import decision_input

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def _audit_row(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO access_audit (subject, action, method, route, status) "
        "VALUES ('ana', 'read', 'GET', '/cases/{case_id}', 200)"
    )


async def test_the_runtime_role_inserts_and_reads_the_audit_tables(runtime_pool):
    store = CaseStore(runtime_pool, default_registry())
    assert (await store.record_decision(decision_input(decision_key="k-1"))).inserted
    await _audit_row(runtime_pool)
    assert await runtime_pool.fetchval("SELECT count(*) FROM decisions") == 1
    assert await runtime_pool.fetchval("SELECT count(*) FROM access_audit") == 1
    assert await runtime_pool.fetchval("SELECT current_user") != "postgres"


@pytest.mark.parametrize("table", APPEND_ONLY)
async def test_the_runtime_role_cannot_truncate_update_or_delete_an_audit_table(
    runtime_pool, db_pool, table
):
    await CaseStore(db_pool, default_registry()).record_decision(decision_input(decision_key="k-1"))
    await _audit_row(db_pool)
    for statement in (
        f"TRUNCATE {table}",
        f"UPDATE {table} SET id = id",
        f"DELETE FROM {table}",
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        f"DROP TABLE {table}",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime_pool.execute(statement)
    assert await db_pool.fetchval("SELECT count(*) FROM decisions") == 1
    assert await db_pool.fetchval("SELECT count(*) FROM access_audit") == 1


@pytest.mark.parametrize("table", APPEND_ONLY)
async def test_truncate_is_refused_by_a_trigger_even_for_the_owner(db_pool, table):
    await CaseStore(db_pool, default_registry()).record_decision(decision_input(decision_key="k-1"))
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only: TRUNCATE refused"):
        await db_pool.execute(f"TRUNCATE {table}")
    assert await db_pool.fetchval("SELECT count(*) FROM decisions") == 1


async def test_the_runtime_role_changes_no_schema_and_deletes_no_working_row(runtime_pool):
    for statement in (
        "CREATE TABLE mine (id int)",
        "ALTER TABLE authorizations ADD COLUMN x int",
        "DELETE FROM authorizations",
        "DELETE FROM notifications",
        "TRUNCATE notifications",
        "DELETE FROM schema_migrations",
        "CREATE ROLE sneaky",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime_pool.execute(statement)


async def test_the_runtime_role_keeps_the_working_tables_current(runtime_pool):
    await runtime_pool.execute(
        "INSERT INTO notifications (key, case_id, kind, recipient, channel) "
        "VALUES ('n1', 'pa-1', 'approval', 'prescriber:1', 'log')"
    )
    await runtime_pool.execute("UPDATE notifications SET status = 'sent' WHERE key = 'n1'")
    assert set(WORKING) == {
        "authorizations",
        "notifications",
        "fhir_claims",
        "fhir_subscriptions",
    }


async def test_the_runtime_role_opens_reads_and_ends_codec_sessions_but_never_extends_one(
    runtime_pool,
):
    """The API's codec sessions (api/codec_server.py) run as the runtime role: a session
    is a row that comes and goes, never one that changes."""
    from api.codec_server import CodecSessions
    from api.identity import Principal, Role

    sessions = CodecSessions()
    who = Principal(subject="rph-ana", roles=frozenset({Role.REVIEWER}), via="token")
    first, _ = await sessions.open(runtime_pool, who)
    await sessions.open(runtime_pool, who)  # another browser's
    assert await sessions.principal(runtime_pool, first) == who
    await sessions.close(runtime_pool, first)
    assert await sessions.principal(runtime_pool, first) is None
    assert await sessions.close_all(runtime_pool) == 1
    await sessions.open(runtime_pool, who)
    for statement in (
        "UPDATE codec_sessions SET expires_at = expires_at + interval '1 day'",
        "UPDATE codec_sessions SET roles = '{admin}'",
        "TRUNCATE codec_sessions",
        "ALTER TABLE codec_sessions ADD COLUMN x int",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime_pool.execute(statement)


async def test_a_start_as_the_runtime_role_checks_the_schema_and_migrates_nothing(runtime_url):
    assert await apply_migrations(runtime_url, runtime_role=RUNTIME_ROLE) == []


async def test_a_pending_migration_as_the_runtime_role_says_to_run_priorauth_migrate(
    runtime_url, tmp_path
):
    import shutil

    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    (directory / "9999_more.sql").write_text("CREATE TABLE more (id int);")
    with pytest.raises(MigrationError, match="priorauth migrate"):
        await apply_migrations(runtime_url, directory, runtime_role=RUNTIME_ROLE)


async def test_a_table_without_declared_privileges_stops_the_grants(db_url):
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("CREATE TABLE forgotten (id int)")
        with pytest.raises(PrivilegeError, match="forgotten"):
            await grant_runtime(conn, RUNTIME_ROLE)
    finally:
        await conn.close()


async def test_grants_are_reapplied_idempotently_and_the_role_is_made_once(db_url):
    import asyncio

    await asyncio.gather(*(apply_migrations(db_url, runtime_role=RUNTIME_ROLE) for _ in range(3)))
    conn = await asyncpg.connect(db_url)
    try:
        privileges = {
            (r["table_name"], r["privilege_type"])
            for r in await conn.fetch(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = $1",
                RUNTIME_ROLE,
            )
        }
    finally:
        await conn.close()
    assert {p for t, p in privileges if t == "decisions"} == {"SELECT", "INSERT"}
    assert {p for t, p in privileges if t == "notifications"} == {"SELECT", "INSERT", "UPDATE"}
    assert {p for t, p in privileges if t == "codec_sessions"} == {"SELECT", "INSERT", "DELETE"}
    assert not {p for _, p in privileges} & {"TRUNCATE", "REFERENCES", "TRIGGER"}
    assert {t for t, p in privileges if p == "DELETE"} == set(SESSIONS)
