"""The HTTP API application factory.

``create_app(settings, client=, pool=)`` builds the FastAPI app: role-scoped
bearer tokens on every route (api/auth.py), one error shape (api/errors.py),
the case routes, and the codec server at ``/codec`` when its module is
present. OpenAPI docs at ``/docs``; ``/healthz`` is open.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import asyncpg
import structlog
from fastapi import Depends, FastAPI
from temporalio.client import Client

from api.auth import PHI_VIEWERS, TokenTable, parse_tokens, require
from api.errors import install_error_handlers
from api.limits import BodyLimits
from infra.settings import Settings

log = structlog.get_logger("api")

DESCRIPTION = """
Prior authorization of Blincyto (blinatumomab): submit requests, send claim lines
and clinical events to live cases, record reviewer decisions, and read the queue.

Every route but `/healthz` needs `Authorization: Bearer <token>`; tokens and their
roles (`intake`, `claims`, `clinical`, `reviewer`, `read-only`, `admin`) come from
`API_TOKENS`. Errors are `{"error", "message"}`; invalid input (422) adds
`errors: [{"field", "message"}]` with dotted field paths, never the value sent.

Bodies are read strictly (CONTRACT.md, "Strict types"): dates `YYYY-MM-DD`,
timestamps RFC 3339 with a zone, numbers and booleans as JSON numbers and
booleans, nothing coerced, unknown fields refused; identifiers are 1-64
characters of `A-Z a-z 0-9 . _ : -`. A request names a drug a policy covers
(`service.hcpcs`, `service.ndc`).
"""


def create_app(
    settings: Settings, *, client: Client | None = None, pool: asyncpg.Pool | None = None
) -> FastAPI:
    """Build the API; it opens its own client and pool unless the caller shares them."""
    parsed = parse_tokens(settings.api_tokens)
    if not parsed:
        log.warning("no API tokens configured: every call but /healthz is refused (set API_TOKENS)")
    tokens = TokenTable(parsed)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import worker

        owned_pool = None
        app.state.client = client or await worker.connect_client(settings)
        if pool is None:
            owned_pool = await worker.open_pool(settings)
        app.state.pool = pool or owned_pool
        try:
            yield
        finally:
            if owned_pool is not None:
                await owned_pool.close()

    app = FastAPI(
        title="Blincyto prior authorization",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tokens = tokens
    if client is not None:
        app.state.client = client
    if pool is not None:
        app.state.pool = pool
    install_error_handlers(app)
    app.add_middleware(BodyLimits)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from api import routes_actions, routes_cases, routes_claims, routes_events, routes_timeline

    for module in (routes_cases, routes_actions, routes_claims, routes_events, routes_timeline):
        app.include_router(module.router)
    _mount_codec(app, settings)
    return app


def _mount_codec(app: FastAPI, settings: Settings) -> None:
    """The codec server for the Temporal UI at /codec, for PHI-viewing roles only."""
    from api.codec_server import codec_router

    app.include_router(
        codec_router(settings, dependencies=[Depends(require(*PHI_VIEWERS))]), prefix="/codec"
    )
