"""The runtime role's privileges: what the worker and the API may do in PostgreSQL.

Two roles (README, Security): the **migration role** owns the schema and runs
migrations (``MIGRATION_DATABASE_URL``, default ``DATABASE_URL``); the
**runtime role** (``DATABASE_RUNTIME_ROLE``, a NOLOGIN group whose members
are the logins in ``DATABASE_URL``) writes and reads rows only:

- the append-only tables (``APPEND_ONLY``: decisions, the claims ledger and
  its rejections, clinical events, the access audit): SELECT and INSERT,
  nothing else: no UPDATE, DELETE or TRUNCATE (their triggers refuse those
  too, the owner included);
- the working tables (``WORKING``: the case projection, the notification
  outbox, the FHIR door's claims and subscriptions, whose rows move on):
  SELECT, INSERT and UPDATE, never DELETE (a FHIR DELETE turns a subscription off);
- the browser sessions (``SESSIONS``: ``codec_sessions`` and
  ``workbench_sessions``, not audit tables): SELECT, INSERT and DELETE (a
  session ends by its row going: logout, revocation of all, expiry), never
  UPDATE, so no session is extended or given other roles once open;
- ``schema_migrations``: SELECT, so a start can see the schema is current;
- the id sequences: USAGE; the schema: USAGE only (no CREATE, and it owns
  no table, so no ALTER, DROP or trigger change).

``grant_runtime`` (re)applies exactly these grants, after every migration run,
as the migration role, creating the group role when it is missing (roles are
cluster-wide: a DO block that tolerates a concurrent creation). A table in
the schema that is in none of the lists stops the migration, so a new table
cannot be forgotten here.
"""

from __future__ import annotations

import asyncpg

APPEND_ONLY = (
    "decisions",
    "claim_lines",
    "claim_line_rejections",
    "clinical_events",
    "access_audit",
)
WORKING = ("authorizations", "notifications", "fhir_claims", "fhir_subscriptions")
SESSIONS = ("codec_sessions", "workbench_sessions")
READ_ONLY = ("schema_migrations",)

_CREATE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {literal}) THEN
        CREATE ROLE {ident} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another process created it at the same moment
END
$$
"""


class PrivilegeError(RuntimeError):
    """The runtime role's grants could not be applied (a table undeclared, no CREATEROLE)."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def can_grant(conn: asyncpg.Connection) -> bool:
    """Whether this connection's role owns the schema's tables (the migration role)."""
    return bool(
        await conn.fetchval(
            """
            SELECT pg_has_role(current_user, tableowner, 'USAGE')
            FROM pg_tables
            WHERE schemaname = current_schema() AND tablename = 'schema_migrations'
            """
        )
    )


async def grant_runtime(conn: asyncpg.Connection, role: str) -> None:
    """Give ``role`` exactly the runtime privileges (module docstring), in one transaction."""
    tables = {
        r["tablename"]
        for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    undeclared = tables - {*APPEND_ONLY, *WORKING, *SESSIONS, *READ_ONLY}
    if undeclared:
        raise PrivilegeError(
            f"no runtime privileges declared for {', '.join(sorted(undeclared))}: "
            "add them to infra/db_roles.py"
        )
    who = _ident(role)
    schema = _ident(await conn.fetchval("SELECT current_schema()"))
    try:
        await conn.execute(_CREATE_ROLE.format(literal=_literal(role), ident=who))
    except asyncpg.InsufficientPrivilegeError as exc:
        raise PrivilegeError(
            f"the runtime role {role} does not exist and this role may not create it: "
            "create it first (deploy/postgres-init.sql)"
        ) from exc
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {who}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {who}",
        # PostgreSQL < 15 lets PUBLIC create in the public schema (a warning, no error,
        # where the migration role does not own the schema).
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
    ]
    statements += [
        f"GRANT SELECT, INSERT ON TABLE {_ident(t)} TO {who}" for t in APPEND_ONLY if t in tables
    ]
    statements += [
        f"GRANT SELECT, INSERT, UPDATE ON TABLE {_ident(t)} TO {who}"
        for t in WORKING
        if t in tables
    ]
    statements += [
        f"GRANT SELECT, INSERT, DELETE ON TABLE {_ident(t)} TO {who}"
        for t in SESSIONS
        if t in tables
    ]
    statements += [f"GRANT SELECT ON TABLE {_ident(t)} TO {who}" for t in READ_ONLY if t in tables]
    async with conn.transaction():
        for statement in statements:
            await conn.execute(statement)
