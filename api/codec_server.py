"""The codec server: the Temporal UI and CLI send payloads here to see them decoded.

Implements the remote-codec HTTP protocol: ``POST …/encode`` and ``POST …/decode``
take and return a ``temporal.api.common.v1.Payloads`` message in protobuf JSON
(``{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}``);
bad JSON or a payload that cannot be decrypted is a 400.

The UI calls it from the browser, so the routes answer CORS themselves for the
configured UI origins, including the preflight ``OPTIONS`` (which carries no
credentials and so is never behind auth). The caller passes its auth
dependencies, applied to ``POST`` only; auth failures keep their CORS headers so
the UI can show them. Mounted by the API at ``/codec``; ``priorauth dev`` points
the UI at it when ``CODEC_KEYS`` is set.

The Temporal UI sends no bearer token of ours, only cookies (its codec setting
"Include cross-origin credentials"). So a person allowed to see PHI opens a
browser session once: ``POST /codec/session`` with their bearer token (from the
API's ``/docs``, "Authorize", or curl) sets an HttpOnly, SameSite=Lax cookie
holding it, and later ``/encode``/``/decode`` calls without an Authorization
header are checked against that cookie by the same auth dependencies.
``DELETE /codec/session`` ends it. The cookie is sent only when the UI and the
API are the same site (same host name, any port: open the UI on the host name
the codec endpoint uses).

Every call is in the access audit (api/audit.py): who, how many payloads,
the namespace, and the workflow id when the caller sends ``X-Workflow-Id``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import structlog
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.params import Depends
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from google.protobuf import json_format
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from api.audit import audit_record, clean_id
from infra.codec import CodecError, codec_from_settings
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
SESSION_SECONDS = 8 * 3600


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
                request = _with_session_token(request)
                cors = cors_headers(request.headers.get("origin"), allowed)
                try:
                    response = await handler(request)
                except StarletteHTTPException as exc:
                    # Rendered by the app's own error handler, which keeps exc.headers.
                    exc.headers = {**(exc.headers or {}), **cors}
                    raise
                response.headers.update(cors)
                return response

            return with_cors

    return CorsRoute


def _with_session_token(request: Request) -> Request:
    """The request, with the session cookie's token as its bearer when it has none."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or "authorization" in request.headers:
        return request
    scope = dict(request.scope)
    scope["headers"] = [*request.scope["headers"], (b"authorization", f"Bearer {token}".encode())]
    return Request(scope, request.receive)


async def _read_payloads(request: Request) -> Payloads:
    try:
        return json_format.ParseDict(await request.json(), Payloads())
    except (ValueError, json_format.ParseError, TypeError, AttributeError) as exc:
        raise HTTPException(400, "body must be Payloads protobuf JSON") from exc


def _mount_path(request: Request) -> str:
    """Where this router is mounted (``/codec``), so the cookie goes to its routes only."""
    return request.url.path.rsplit("/", 1)[0] or "/"


def _payloads_json(payloads: Payloads) -> JSONResponse:
    return JSONResponse(json_format.MessageToDict(payloads))


def codec_router(
    settings: Settings,
    *,
    dependencies: Sequence[Depends] | None = None,
    allowed_origins: Sequence[str] = DEFAULT_UI_ORIGINS,
    codec: PayloadCodec | None = None,
) -> APIRouter:
    """POST /encode and /decode (behind ``dependencies``), their CORS preflights, /session.

    ``codec`` defaults to the one built from ``settings.codec_keys``; with no
    keys the routes return payloads unchanged, as a client without a codec would.
    """
    codec = codec if codec is not None else codec_from_settings(settings)
    allowed = frozenset(allowed_origins)
    router = APIRouter(tags=["codec"], route_class=_cors_route_class(allowed))
    guarded = list(dependencies or [])

    async def _apply(request: Request, operation: str) -> JSONResponse:
        payloads = await _read_payloads(request)
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
                raise HTTPException(400, str(exc)) from exc
        log.debug("codec request", operation=operation, payloads=len(payloads.payloads))
        return _payloads_json(payloads)

    @router.post("/encode", dependencies=guarded, summary="Encrypt Payloads (protobuf JSON)")
    async def encode(request: Request) -> JSONResponse:
        return await _apply(request, "encode")

    @router.post("/decode", dependencies=guarded, summary="Decrypt Payloads (protobuf JSON)")
    async def decode(request: Request) -> JSONResponse:
        return await _apply(request, "decode")

    @router.options("/encode", include_in_schema=False)
    @router.options("/decode", include_in_schema=False)
    async def preflight() -> Response:
        return Response(status_code=204)

    @router.post(
        "/session",
        dependencies=guarded,
        status_code=204,
        summary="Open a browser session for the Temporal UI's codec calls (sets a cookie)",
    )
    async def open_session(request: Request) -> Response:
        token = request.headers["authorization"].partition(" ")[2].strip()
        response = Response(status_code=204)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=SESSION_SECONDS,
            path=_mount_path(request),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    @router.delete("/session", status_code=204, summary="End the browser session")
    async def close_session(request: Request) -> Response:
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path=_mount_path(request), httponly=True)
        return response

    return router
