"""The codec server: the Temporal UI and CLI send payloads here to see them decoded.

Implements the remote-codec HTTP protocol: ``POST …/encode`` and ``POST …/decode``
take and return a ``temporal.api.common.v1.Payloads`` message in protobuf JSON
(``{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}``);
bad JSON or a payload that cannot be decrypted is a 400 (the reason in general
terms: never a key id this server holds, never the payload). The body is read
through ``PayloadsJson``, which states the message's JSON exactly (base64 in
the standard or URL-safe alphabet, unknown fields refused) and is what the
OpenAPI document shows; protobuf's own parser would take sloppier base64.

The UI calls it from the browser, so the routes answer CORS themselves for the
configured UI origins, including the preflight ``OPTIONS`` (which carries no
credentials and so is never behind auth). Auth failures keep their CORS headers
so the UI can show them. Mounted by the API at ``/codec``; ``priorauth dev``
points the UI at it when ``CODEC_KEYS`` is set.

Who may call: a bearer token accepted by ``authenticate`` (the API passes the
PHI-viewing roles), or a browser session. The Temporal UI sends no bearer token
of ours, only cookies (its codec setting "Include cross-origin credentials"),
so a person allowed to see PHI opens a session once: ``POST /codec/session``
with their bearer credential (a static token or an OIDC access token,
api/identity.py) sets a cookie holding a random session id, not the token;
the session stands for that credential's subject and roles:

- the session lives in PostgreSQL (``codec_sessions``, only the id's SHA-256),
  so every API replica knows it and a revocation holds everywhere;
- it ends at an absolute expiry (``CODEC_SESSION_HOURS``, 8 by default), never
  extended by use; ``DELETE /codec/session`` ends it, ``DELETE
  /codec/sessions`` (admin) ends all of them;
- the cookie is ``HttpOnly``, ``SameSite=Strict``, scoped to the codec routes,
  and ``Secure`` unless the API is addressed as localhost (behind a TLS
  terminator the request is plain http, so the scheme cannot decide).

The cookie is sent only when the UI and the API are the same site (same
registrable domain, any port). The browser must receive it itself: ``GET
/codec/login`` is a page (no outside resources, a strict CSP) where a reviewer
pastes a token once; its script calls ``POST /codec/session`` (and ``DELETE``
to end it), so the token never becomes the cookie and the page never keeps it.

Every call is in the access audit (api/audit.py): who (the subject and roles of
the bearer credential, or of the session's opener), how many payloads, the
namespace, and the workflow id when the caller sends ``X-Workflow-Id``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
import structlog
from annotated_types import Interval
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from google.protobuf import json_format
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from api.audit import audit_record, clean_id
from api.auth import Principal, Role
from api.errors import ApiError
from api.responses import ANY_ROUTE, AUTHED, errors
from infra.codec import CodecError, PlaintextPayloadError, UnknownKeyError, codec_from_settings
from infra.settings import Settings

log = structlog.get_logger("codec_server")

#: The Temporal UI of `priorauth dev` (:8233) and of docker-compose (:8080).
DEFAULT_UI_ORIGINS = (
    "http://localhost:8233",
    "http://127.0.0.1:8233",
    "http://localhost:8080",
    "http://127.0.0.1:8080",
)
#: Sent by callers that know which case the payloads are of (the Temporal UI does not);
#: it goes to the access audit only.
WORKFLOW_ID_HEADER = "X-Workflow-Id"
ALLOWED_HEADERS = f"Authorization, Content-Type, X-Namespace, {WORKFLOW_ID_HEADER}"
ALLOWED_METHODS = "POST, OPTIONS"
SESSION_COOKIE = "priorauth_codec"
SESSION_LIFETIME = timedelta(hours=8)
#: Host names under which a browser accepts a cookie without Secure over plain http.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

Authenticate = Callable[[Request], Awaitable[Principal]]

NOT_PAYLOADS = "body must be Payloads protobuf JSON"
#: Security (OpenAPI) of the routes that check the caller themselves: the API's bearer
#: token, or (on /encode and /decode) this server's session cookie instead.
BEARER: list[dict[str, list[str]]] = [{"HTTPBearer": []}]
BEARER_OR_SESSION: list[dict[str, list[str]]] = [{"HTTPBearer": []}, {"CodecSession": []}]
SECURITY_SCHEMES = {
    "CodecSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "a codec session, opened with POST /codec/session (or /codec/login)",
    }
}

#: Bytes in protobuf JSON: base64, standard or URL-safe alphabet, padding optional.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$"
Base64 = Annotated[str, Field(pattern=BASE64_PATTERN, description="bytes, base64")]
_PROTO_JSON = ConfigDict(extra="forbid", strict=True)


def _integral(value: Any) -> Any:
    """A JSON integer may be written ``3.0`` (JSON Schema, 2020-12, 6.1.1)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: int64 in protobuf JSON: a number (bounded where a float is still exact) or a decimal string
#: of up to 16 digits (answers write it as a string: 2**53 - 1 has 16).
SizeBytes = (
    Annotated[int, Interval(ge=0, le=2**53 - 1), BeforeValidator(_integral)]
    | Annotated[str, Field(pattern=r"^(?:0|[1-9][0-9]{0,15})$")]
)


class ExternalPayloadJson(BaseModel):
    """``temporal.api.common.v1.Payload.ExternalPayloadDetails`` in protobuf JSON."""

    model_config = _PROTO_JSON
    size_bytes: SizeBytes = Field(default=0, alias="sizeBytes")


class PayloadJson(BaseModel):
    """``temporal.api.common.v1.Payload`` in protobuf JSON."""

    model_config = _PROTO_JSON
    metadata: dict[str, Base64] = Field(default_factory=dict)
    data: Base64 = ""
    external_payloads: list[ExternalPayloadJson] = Field(
        default_factory=list, alias="externalPayloads"
    )


class PayloadsJson(BaseModel):
    """``temporal.api.common.v1.Payloads`` in protobuf JSON: what the codec routes take."""

    model_config = _PROTO_JSON
    payloads: list[PayloadJson] = Field(default_factory=list)


class SessionsEnded(BaseModel):
    ended: int


_CODEC_ERRORS = errors(*ANY_ROUTE, *AUTHED, 400, 422)
_CODEC_ERRORS[400]["description"] = (
    "the body is not Payloads protobuf JSON, or a payload cannot be decoded"
)
_CODEC_ERRORS[401]["description"] = "no bearer token or session, or an unknown or ended one"
_SESSION_ERRORS = errors(*ANY_ROUTE, *AUTHED, 422)

_LOGIN_SCRIPT = """
const out = document.getElementById("out");
async function call(method, headers) {
  const r = await fetch("session", {method, headers, credentials: "same-origin"});
  return r.status;
}
document.getElementById("open").addEventListener("submit", async (e) => {
  e.preventDefault();
  const field = document.getElementById("token");
  const status = await call("POST", {Authorization: "Bearer " + field.value});
  field.value = "";
  out.textContent = status === 204 ? "Session open: the Temporal UI can decode now."
                                   : "Refused (HTTP " + status + ").";
});
document.getElementById("close").addEventListener("click", async () => {
  await call("DELETE", {});
  out.textContent = "Session ended.";
});
"""
_LOGIN_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codec session</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Decode payloads in the Temporal UI</h1>
<p>Paste your API token (or OIDC access token) of the reviewer role once. It opens a
browser session for the codec server in your name (a random id in an HttpOnly cookie,
ending by itself); the token is not kept.</p>
<form id="open"><label>API token <input id="token" type="password" autocomplete="off"
required></label> <button type="submit">Open session</button></form>
<p><button id="close" type="button">End session</button></p>
<p id="out" role="status"></p>
<script>{_LOGIN_SCRIPT}</script>
</body></html>
"""
_LOGIN_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_LOGIN_SCRIPT.encode()).digest()).decode()
LOGIN_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src 'sha256-{_LOGIN_SCRIPT_HASH}'; connect-src 'self'; "
        "style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def cors_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """CORS response headers for ``origin``; none unless it is one of the listed UI origins.

    No wildcard: these responses carry PHI and are sent with credentials.
    """
    if origin is None or origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def _cors_route_class(allowed: frozenset[str]) -> type[APIRoute]:
    """An APIRoute whose every response carries CORS, errors (auth included) too."""

    class CorsRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def with_cors(request: Request) -> Response:
                cors = cors_headers(request.headers.get("origin"), allowed)
                try:
                    try:
                        response = await handler(request)
                    except RequestValidationError as exc:
                        # The codec protocol answers a body it cannot read with 400.
                        raise ApiError(400, "bad_request", NOT_PAYLOADS) from exc
                except StarletteHTTPException as exc:
                    # Rendered by the app's own error handler, which keeps exc.headers.
                    exc.headers = {**(exc.headers or {}), **cors}
                    raise
                response.headers.update(cors)
                return response

            return with_cors

    return CorsRoute


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class CodecSessions:
    """Browser sessions in PostgreSQL: a random id (hashed at rest), the subject and roles
    of the credential that opened it, an absolute expiry.

    The runtime role may SELECT, INSERT and DELETE these rows, never UPDATE them
    (infra/db_roles.py): a session cannot be extended or given other roles once open.
    """

    def __init__(self, lifetime: timedelta = SESSION_LIFETIME) -> None:
        self.lifetime = lifetime

    async def open(self, pool: asyncpg.Pool, who: Principal) -> tuple[str, datetime]:
        """A new session for ``who``: its id (for the cookie only) and when it ends."""
        session_id = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + self.lifetime
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM codec_sessions WHERE expires_at <= now()")
            await conn.execute(
                "INSERT INTO codec_sessions (id_hash, subject, roles, auth, expires_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                _hash(session_id),
                who.subject,
                who.role_names,
                who.via,
                expires,
            )
        return session_id, expires

    async def principal(self, pool: asyncpg.Pool, session_id: str) -> Principal | None:
        """Who the session is, while it lives; None when unknown, expired or ended."""
        row = await pool.fetchrow(
            "SELECT subject, roles, auth FROM codec_sessions"
            " WHERE id_hash = $1 AND expires_at > now()",
            _hash(session_id),
        )
        if row is None:
            return None
        known = {r.value: r for r in Role}  # a role this code no longer knows grants nothing
        return Principal(
            subject=row["subject"],
            roles=frozenset(known[name] for name in row["roles"] if name in known),
            via=row["auth"],
        )

    async def close(self, pool: asyncpg.Pool, session_id: str) -> None:
        await pool.execute("DELETE FROM codec_sessions WHERE id_hash = $1", _hash(session_id))

    async def close_all(self, pool: asyncpg.Pool) -> int:
        result = await pool.execute("DELETE FROM codec_sessions")
        return int(result.split()[-1])


def _payloads(body: PayloadsJson) -> Payloads:
    try:
        return json_format.ParseDict(body.model_dump(by_alias=True), Payloads())
    except (ValueError, json_format.ParseError, TypeError, AttributeError) as exc:
        raise ApiError(400, "bad_request", NOT_PAYLOADS) from exc


def _mount_path(request: Request) -> str:
    """Where this router is mounted (``/codec``), so the cookie goes to its routes only."""
    return request.url.path.rsplit("/", 1)[0] or "/"


def _secure_cookie(request: Request) -> bool:
    """Secure everywhere but a plain-http localhost (the dev stack): behind a TLS terminator
    the API sees http, so the scheme alone would leave the cookie unprotected."""
    return request.url.scheme == "https" or (request.url.hostname or "") not in LOOPBACK_HOSTS


def _payloads_json(payloads: Payloads) -> JSONResponse:
    return JSONResponse(json_format.MessageToDict(payloads))


def _refusal(exc: CodecError) -> str:
    """What the caller is told: the kind of failure, never a key id or the payload."""
    if isinstance(exc, PlaintextPayloadError):
        return "a payload is not encrypted; this server decodes only its own encrypted payloads"
    if isinstance(exc, UnknownKeyError):
        return "a payload is encrypted with a key this server does not hold"
    return "a payload cannot be decrypted"


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def codec_router(
    settings: Settings,
    *,
    authenticate: Authenticate,
    roles: Collection[Role] | None = None,
    admin: Authenticate | None = None,
    sessions: CodecSessions | None = None,
    allowed_origins: Sequence[str] = DEFAULT_UI_ORIGINS,
    codec: PayloadCodec | None = None,
) -> APIRouter:
    """POST /encode and /decode, their CORS preflights, /session, and /sessions.

    ``authenticate`` checks a bearer credential (and its roles); a session opened with
    it stands in for it on /encode and /decode while one of the session's roles is in
    ``roles`` (any role when None). ``admin`` guards ``DELETE /sessions``.
    ``codec`` defaults to the one built from ``settings.codec_keys``; with no keys
    the routes return payloads unchanged, as a client without a codec would.
    """
    codec = codec if codec is not None else codec_from_settings(settings)
    sessions = sessions or CodecSessions()
    allowed = frozenset(allowed_origins)
    router = APIRouter(tags=["codec"], route_class=_cors_route_class(allowed))
    accepted = None if roles is None else frozenset(roles)

    async def caller(request: Request) -> Principal:
        """The bearer credential's principal, else the session cookie's (bearer wins)."""
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id and "authorization" not in request.headers:
            who = await sessions.principal(_pool(request), session_id)
            if who is None or (accepted is not None and not who.roles & accepted):
                raise ApiError(
                    401,
                    "unauthorized",
                    "the codec session is unknown, expired or ended; open a new one",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            request.state.principal = who
            record = audit_record(request)
            if record is not None:  # the access audit names the session's subject
                record.principal = who
            return who
        return await authenticate(request)

    bearer = _as_dependency(authenticate)

    async def _apply(request: Request, body: PayloadsJson, operation: str) -> JSONResponse:
        payloads = _payloads(body)
        record = audit_record(request)
        if record is not None:  # who decoded how many payloads, of which case if the caller says
            record.payloads = len(payloads.payloads)
            record.namespace = clean_id(request.headers.get("x-namespace"))
            record.case_id = clean_id(request.headers.get(WORKFLOW_ID_HEADER))
        if codec is not None:
            try:
                if operation == "encode":
                    await codec.encode_wrapper(payloads)
                else:
                    await codec.decode_wrapper(payloads)
            except CodecError as exc:
                log.warning("codec request refused", operation=operation, error=str(exc))
                raise ApiError(400, "bad_request", _refusal(exc)) from exc
        log.debug("codec request", operation=operation, payloads=len(payloads.payloads))
        return _payloads_json(payloads)

    @router.post(
        "/encode",
        dependencies=[Depends(caller)],
        summary="Encrypt Payloads (protobuf JSON)",
        response_model=PayloadsJson,
        responses=_CODEC_ERRORS,
        openapi_extra={"security": BEARER_OR_SESSION},
    )
    async def encode(request: Request, body: PayloadsJson) -> JSONResponse:
        return await _apply(request, body, "encode")

    @router.post(
        "/decode",
        dependencies=[Depends(caller)],
        summary="Decrypt Payloads (protobuf JSON)",
        response_model=PayloadsJson,
        responses=_CODEC_ERRORS,
        openapi_extra={"security": BEARER_OR_SESSION},
    )
    async def decode(request: Request, body: PayloadsJson) -> JSONResponse:
        return await _apply(request, body, "decode")

    @router.options("/encode", include_in_schema=False)
    @router.options("/decode", include_in_schema=False)
    async def preflight() -> Response:
        return Response(status_code=204)

    @router.post(
        "/session",
        status_code=204,
        summary="Open a browser session for the Temporal UI's codec calls (sets a cookie)",
        responses=_SESSION_ERRORS,
        openapi_extra={"security": BEARER},
    )
    async def open_session(request: Request, who: Principal = Depends(bearer)) -> Response:
        pool = _pool(request)
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            await sessions.close(pool, previous)
        session_id, expires = await sessions.open(pool, who)
        log.info("codec session opened", subject=who.subject, roles=who.role_names)
        response = Response(status_code=204)
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=int(sessions.lifetime.total_seconds()),
            expires=expires,
            path=_mount_path(request),
            httponly=True,
            samesite="strict",
            secure=_secure_cookie(request),
        )
        return response

    @router.get("/login", include_in_schema=False)
    async def login_page() -> HTMLResponse:
        return HTMLResponse(_LOGIN_PAGE, headers=LOGIN_HEADERS)

    @router.delete(
        "/session",
        status_code=204,
        summary="End this browser session",
        responses=errors(*ANY_ROUTE),
    )
    async def close_session(request: Request) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            pool = _pool(request)
            who = await sessions.principal(pool, session_id)
            record = audit_record(request)
            if who is not None and record is not None:  # who ended their session
                record.principal = who
            await sessions.close(pool, session_id)
            log.info("codec session ended", subject=who.subject if who else None)
        response = Response(status_code=204)
        response.delete_cookie(
            SESSION_COOKIE,
            path=_mount_path(request),
            httponly=True,
            samesite="strict",
            secure=_secure_cookie(request),
        )
        return response

    if admin is not None:

        @router.delete(
            "/sessions",
            status_code=200,
            dependencies=[Depends(_as_dependency(admin))],
            summary="End every browser session (admin)",
            response_model=SessionsEnded,
            responses=errors(*ANY_ROUTE, *AUTHED),
            openapi_extra={"security": BEARER},
        )
        async def close_all_sessions(request: Request) -> SessionsEnded:
            ended = await sessions.close_all(_pool(request))
            log.warning("every codec session ended", sessions=ended)
            return SessionsEnded(ended=ended)

    return router


def _as_dependency(check: Authenticate) -> Callable[[Request], Awaitable[Principal]]:
    async def dependency(request: Request) -> Principal:
        return await check(request)

    return dependency
