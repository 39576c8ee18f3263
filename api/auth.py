"""Role-scoped bearer tokens, checked on every route.

Tokens come from ``Settings.api_tokens`` (``"token:role,token:role"``). Each
route declares the roles it accepts with ``Depends(require(...))``; ``admin``
is accepted everywhere. No token or an unknown token is 401; a known token
whose role the route does not accept is 403. Tokens are never logged.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError


class Role(StrEnum):
    """The roles of DESIGN.md / issue #6; ``admin`` may do everything."""

    INTAKE = "intake"
    CLAIMS = "claims"
    CLINICAL = "clinical"
    REVIEWER = "reviewer"
    READ_ONLY = "read-only"
    ADMIN = "admin"


#: Who may read cases (GET routes, timeline).
READERS = (Role.READ_ONLY, Role.REVIEWER)
#: Who may see decrypted payloads through the codec endpoint (PHI). Not intake: it
#: submits cases but cannot read them through the API either.
PHI_VIEWERS = (Role.REVIEWER,)


@dataclass(frozen=True)
class Principal:
    """The caller, as far as the API knows it: a role and a token fingerprint."""

    role: Role
    token_id: str


def parse_tokens(spec: str) -> dict[str, Role]:
    """``"tok1:intake, tok2:claims"`` -> {token: Role}; unknown roles are a config error."""
    tokens: dict[str, Role] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        token, sep, role = item.rpartition(":")
        if not sep or not token:
            raise ValueError("API_TOKENS entries must look like token:role")
        try:
            tokens[token.strip()] = Role(role.strip())
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            message = f"unknown role {role.strip()!r} in API_TOKENS (roles: {allowed})"
            raise ValueError(message) from None
    return tokens


class TokenTable:
    """Constant-time lookup of a bearer token."""

    def __init__(self, tokens: dict[str, Role]) -> None:
        self._tokens = list(tokens.items())

    def role_of(self, token: str) -> Role | None:
        found: Role | None = None
        for known, role in self._tokens:
            if hmac.compare_digest(known.encode(), token.encode()):
                found = role
        return found


_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(auto_error=False, description="Role-scoped token from API_TOKENS")


def _fingerprint(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()[:8]


def authenticator(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """``require(*roles)`` as a plain call on a request (for routes that also take a
    session cookie instead of the bearer token: the codec server)."""
    check = require(*roles)

    async def run(request: Request) -> Principal:
        return await check(request, await _bearer(request))

    return run


def require(*roles: Role):
    """A dependency accepting callers whose role is one of ``roles`` (or admin)."""
    accepted = frozenset((*roles, Role.ADMIN))

    async def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "unauthorized", "a bearer token is required", headers=_CHALLENGE)
        table: TokenTable = request.app.state.tokens
        role = table.role_of(credentials.credentials)
        if role is None:
            raise ApiError(401, "unauthorized", "unknown token", headers=_CHALLENGE)
        if role not in accepted:
            allowed = ", ".join(sorted(r.value for r in accepted))
            raise ApiError(403, "forbidden", f"role {role.value} may not do this (needs {allowed})")
        principal = Principal(role=role, token_id=_fingerprint(credentials.credentials))
        request.state.principal = principal
        return principal

    return check
