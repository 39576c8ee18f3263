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

from infra.codec import CodecError, codec_from_settings
from infra.settings import Settings

log = structlog.get_logger("codec_server")

DEFAULT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
ALLOWED_METHODS = "POST, OPTIONS"


def cors_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """CORS response headers for ``origin``; none when it is not an allowed UI origin."""
    if origin is None or ("*" not in allowed and origin not in allowed):
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
                    response = await handler(request)
                except StarletteHTTPException as exc:
                    # Rendered by the app's own error handler, which keeps exc.headers.
                    exc.headers = {**(exc.headers or {}), **cors}
                    raise
                response.headers.update(cors)
                return response

            return with_cors

    return CorsRoute


async def _read_payloads(request: Request) -> Payloads:
    try:
        return json_format.ParseDict(await request.json(), Payloads())
    except (ValueError, json_format.ParseError, TypeError, AttributeError) as exc:
        raise HTTPException(400, "body must be Payloads protobuf JSON") from exc


def _payloads_json(payloads: Payloads) -> JSONResponse:
    return JSONResponse(json_format.MessageToDict(payloads))


def codec_router(
    settings: Settings,
    *,
    dependencies: Sequence[Depends] | None = None,
    allowed_origins: Sequence[str] = DEFAULT_UI_ORIGINS,
    codec: PayloadCodec | None = None,
) -> APIRouter:
    """POST /encode and /decode (behind ``dependencies``) plus their CORS preflights.

    ``codec`` defaults to the one built from ``settings.codec_keys``; with no
    keys the routes return payloads unchanged, as a client without a codec would.
    """
    codec = codec if codec is not None else codec_from_settings(settings)
    allowed = frozenset(allowed_origins)
    router = APIRouter(tags=["codec"], route_class=_cors_route_class(allowed))
    guarded = list(dependencies or [])

    async def _apply(request: Request, operation: str) -> JSONResponse:
        payloads = await _read_payloads(request)
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

    return router
