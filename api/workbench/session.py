"""Workbench sessions: a bearer token traded once for a cookie, and the CSRF token of each.

A person logs in with their credential (a static token or an OIDC access token,
api/identity.py); the workbench opens a session standing for that credential's
subject and roles, and the browser holds only a random session id:

- the session lives in PostgreSQL (``workbench_sessions``, only the id's
  SHA-256), so every API replica knows it and a logout holds everywhere;
- it ends at an absolute expiry (``WORKBENCH_SESSION_HOURS``, 8 by default),
  never extended by use; logging out deletes its row;
- the cookie is ``HttpOnly``, ``SameSite=Strict``, scoped to ``/workbench``,
  and ``Secure`` except over plain http to localhost in dev and test;
- each session has its own random CSRF token (the synchronizer token): every
  form the workbench serves carries it, and a POST without it, or with another
  session's, is refused (403) before anything is read or changed. The login
  form, which has no session yet, carries a one-time token that must match a
  short-lived cookie set with the form (a login CSRF cannot log a victim in
  under someone else's name).

The session's subject is the only source of who decides (README, Security).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from fastapi import Request
from fastapi.responses import Response

from api.identity import Principal, Role

SESSION_COOKIE = "priorauth_workbench"
LOGIN_COOKIE = "priorauth_workbench_login"
COOKIE_PATH = "/workbench"
LOGIN_PATH = "/workbench/login"
SESSION_LIFETIME = timedelta(hours=8)
#: How long the login form's one-time token lives.
LOGIN_FORM_LIFETIME = timedelta(minutes=15)
#: Host names under which a browser keeps a cookie without Secure over plain http.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

#: Who may use the workbench at all: the queue for each of them.
WORKBENCH_ROLES = frozenset({Role.REVIEWER, Role.READ_ONLY, Role.ADMIN})
#: Who may decide a review (the API's decide_review accepts the same).
DECIDERS = frozenset({Role.REVIEWER, Role.ADMIN})
#: Who sees the request's facts (PHI) and the values the engine read (the codec's roles).
PHI_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})


def may_use(who: Principal) -> bool:
    return bool(who.roles & WORKBENCH_ROLES)


def may_decide(who: Principal) -> bool:
    return bool(who.roles & DECIDERS)


def sees_phi(who: Principal) -> bool:
    return bool(who.roles & PHI_ROLES)


@dataclass(frozen=True)
class Session:
    """One open session: who it stands for, its CSRF token and when it ends."""

    principal: Principal
    csrf_token: str
    expires_at: datetime


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, presented: object) -> bool:
    """Whether a form's CSRF token is the expected one (constant time; none never matches)."""
    if not expected or not isinstance(presented, str) or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


class WorkbenchSessions:
    """Sessions in PostgreSQL, read and written as the runtime role (never updated)."""

    def __init__(self, lifetime: timedelta = SESSION_LIFETIME) -> None:
        self.lifetime = lifetime

    async def open(self, pool: asyncpg.Pool, who: Principal) -> tuple[str, Session]:
        """A new session for ``who``: its id (for the cookie only) and the session."""
        session_id = new_token()
        session = Session(who, new_token(), datetime.now(UTC) + self.lifetime)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM workbench_sessions WHERE expires_at <= now()")
            await conn.execute(
                "INSERT INTO workbench_sessions"
                " (id_hash, subject, roles, auth, csrf_token, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                _hash(session_id),
                who.subject,
                who.role_names,
                who.via,
                session.csrf_token,
                session.expires_at,
            )
        return session_id, session

    async def get(self, pool: asyncpg.Pool, session_id: str | None) -> Session | None:
        """The session while it lives; None when unknown, expired or ended."""
        if not session_id:
            return None
        row = await pool.fetchrow(
            "SELECT subject, roles, auth, csrf_token, expires_at FROM workbench_sessions"
            " WHERE id_hash = $1 AND expires_at > now()",
            _hash(session_id),
        )
        if row is None:
            return None
        known = {r.value: r for r in Role}  # a role this code no longer knows grants nothing
        who = Principal(
            subject=row["subject"],
            roles=frozenset(known[name] for name in row["roles"] if name in known),
            via=row["auth"],
        )
        return Session(who, row["csrf_token"], row["expires_at"])

    async def close(self, pool: asyncpg.Pool, session_id: str | None) -> None:
        if session_id:
            await pool.execute(
                "DELETE FROM workbench_sessions WHERE id_hash = $1", _hash(session_id)
            )


def secure_cookie(request: Request, dev: bool) -> bool:
    """Secure everywhere but plain http to localhost in dev and test. Behind a TLS
    terminator the API sees http, so the scheme alone cannot decide."""
    if request.url.scheme == "https" or not dev:
        return True
    return (request.url.hostname or "") not in LOOPBACK_HOSTS


def set_session_cookie(
    response: Response, session_id: str, session: Session, *, secure: bool
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=max(0, int((session.expires_at - datetime.now(UTC)).total_seconds())),
        expires=session.expires_at,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def set_login_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=int(LOGIN_FORM_LIFETIME.total_seconds()),
        path=LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def clear_cookie(response: Response, name: str, path: str, *, secure: bool) -> None:
    response.delete_cookie(name, path=path, httponly=True, samesite="strict", secure=secure)
