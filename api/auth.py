"""Every route checks who is calling and what they may do.

The credential is a bearer token: a static token of one person or system, or
an OIDC/JWT access token (api/identity.py). Each route declares the roles it
accepts with ``Depends(require(...))``; ``admin`` is accepted everywhere. No
token, an unknown or invalid one is 401; a caller none of whose roles the
route accepts is 403. The ``Principal`` a route gets is the only source of
who did something: no request body names its actor (README, Security).
Tokens are never logged or stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.audit import audit_record
from api.errors import ApiError
from api.identity import (
    Authenticator,
    CredentialError,
    IdentityProviderUnavailable,
    Principal,
    Role,
)

__all__ = ["PHI_VIEWERS", "READERS", "Principal", "Role", "authenticator", "require"]

#: Who may read cases (GET routes, timeline).
READERS = (Role.READ_ONLY, Role.REVIEWER)
#: Who may see decrypted payloads through the codec endpoint (PHI). Not intake: it
#: submits cases but cannot read them through the API either.
PHI_VIEWERS = (Role.REVIEWER,)

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(
    auto_error=False,
    description="A static token of one person or system (API_TOKENS), or an OIDC access token",
)


def authenticator(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """``require(*roles)`` as a plain call on a request (for routes that also take a
    session cookie instead of the bearer token: the codec server)."""
    check = require(*roles)

    async def run(request: Request) -> Principal:
        return await check(request, await _bearer(request))

    return run


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency accepting callers with one of ``roles`` (or admin); returns the caller."""
    accepted = frozenset((*roles, Role.ADMIN))

    async def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "unauthorized", "a bearer token is required", headers=_CHALLENGE)
        identities: Authenticator = request.app.state.identities
        try:
            principal = await identities.authenticate(credentials.credentials)
        except CredentialError as exc:
            raise ApiError(401, "unauthorized", exc.message, headers=_CHALLENGE) from None
        except IdentityProviderUnavailable:
            raise ApiError(
                503, "unavailable", "the identity provider's keys could not be fetched; try again"
            ) from None
        request.state.principal = principal
        record = audit_record(request)
        if record is not None:
            record.principal = principal
        if not principal.roles & accepted:
            have = ", ".join(principal.role_names) or "none"
            allowed = ", ".join(sorted(r.value for r in accepted))
            raise ApiError(403, "forbidden", f"roles {have} may not do this (needs {allowed})")
        return principal

    return check
