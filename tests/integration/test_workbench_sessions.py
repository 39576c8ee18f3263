"""Workbench sessions in PostgreSQL, written and read as the runtime role
(api/workbench/session.py, migrations/0006_workbench_sessions.sql)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from api.identity import Principal, Role
from api.workbench.session import WorkbenchSessions

ANA = Principal(subject="rph-ana", roles=frozenset({Role.REVIEWER}), via="token")


async def test_a_session_stands_for_its_subject_and_roles_with_its_own_csrf_token(
    runtime_pool, db_pool
):
    sessions = WorkbenchSessions()
    first_id, first = await sessions.open(runtime_pool, ANA)
    second_id, second = await sessions.open(runtime_pool, ANA)
    got = await sessions.get(runtime_pool, first_id)
    assert got is not None and got.principal == ANA and got.csrf_token == first.csrf_token
    assert first.csrf_token != second.csrf_token and first_id != second_id
    stored = {r["id_hash"] for r in await db_pool.fetch("SELECT id_hash FROM workbench_sessions")}
    assert first_id not in stored and second_id not in stored  # only digests at rest
    assert await sessions.get(runtime_pool, "not-a-session") is None
    assert await sessions.get(runtime_pool, None) is None


async def test_a_session_ends_at_its_expiry_and_at_logout(runtime_pool):
    expired = WorkbenchSessions(lifetime=timedelta(seconds=-1))
    old_id, _ = await expired.open(runtime_pool, ANA)
    sessions = WorkbenchSessions()
    assert await sessions.get(runtime_pool, old_id) is None
    session_id, _ = await sessions.open(runtime_pool, ANA)
    await sessions.close(runtime_pool, session_id)
    assert await sessions.get(runtime_pool, session_id) is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE workbench_sessions SET expires_at = expires_at + interval '1 day'",
        "UPDATE workbench_sessions SET roles = '{admin}'",
        "TRUNCATE workbench_sessions",
    ],
)
async def test_the_runtime_role_cannot_extend_a_session_or_change_its_roles(
    runtime_pool, statement
):
    await WorkbenchSessions().open(runtime_pool, ANA)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime_pool.execute(statement)
