"""The HTTP API application factory.

``create_app(settings, client=, pool=)`` builds the FastAPI app: a credential
per person or system on every route (api/auth.py, api/identity.py), an access
audit row for every call on case data (api/audit.py), one error shape
(api/errors.py), limits on bodies (api/limits.py), the case routes, and the
codec server at ``/codec`` and the reviewer workbench at ``/workbench``
(api/workbench/). ``/healthz`` is open. The OpenAPI document and its
pages (``/openapi.json``, ``/docs``, ``/redoc``) are open in dev and test; in
production ``/openapi.json`` needs a valid credential (any role) and the pages
are not served (a browser cannot send the token they would need to load it).

It refuses to start, naming the setting (never a token's value): outside dev
and test on settings that would leak PHI (infra/secure_config.py,
``InsecureSettings``), and anywhere on a bad identity setting (a short token,
an unknown role, OIDC half configured: a ``ValueError``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from temporalio.client import Client

from api.audit import AccessAudit
from api.auth import PHI_VIEWERS, Principal, Role, authenticator, require
from api.errors import install_error_handlers
from api.identity import authenticator_from_settings
from api.limits import BodyLimits
from api.openapi import install_openapi, operation_id
from api.responses import ANY_ROUTE, errors
from api.workbench import install_workbench
from domain.policy_registry import PolicyRegistry, default_registry
from infra.secure_config import refuse_insecure, warnings
from infra.settings import Settings

log = structlog.get_logger("api")

DESCRIPTION = """
Prior authorization of DRUGS: submit requests, send claim lines
and clinical events to live cases, record reviewer decisions, and read the queue.

Every route but `/healthz` needs `Authorization: Bearer <token>`: a static token of one
person or system (`API_TOKENS`) or an OIDC access token. The token says who the caller
is and their roles (`intake`, `claims`, `clinical`, `reviewer`, `read-only`, `admin`);
no body names its actor (a reviewer, a requester, a sender). Every call on case data
is recorded in the access audit. Errors are `{"error", "message"}`; invalid input (422)
adds `errors: [{"field", "message"}]` with dotted field paths, never the value sent,
and a body that is not JSON at all is a 400. Every status a route can answer is
listed under it.

Bodies are read strictly (CONTRACT.md, "Strict types"): dates `YYYY-MM-DD`,
timestamps RFC 3339 with a zone, numbers and booleans as JSON numbers and
booleans, nothing coerced, unknown fields refused; identifiers are 1-64
characters of `A-Z a-z 0-9 . _ : -`. A request names a drug a policy covers
(`service.hcpcs`, `service.ndc`). Strings in bodies must not hold NUL characters
(the patterns say so) or unpaired UTF-16 surrogates (I-JSON, RFC 7493): neither
can be stored. `POST /cases` answers the case id that every other case route
takes (OpenAPI links).
"""


def create_app(
    settings: Settings,
    *,
    client: Client | None = None,
    pool: asyncpg.Pool | None = None,
    policies: PolicyRegistry | None = None,
) -> FastAPI:
    """Build the API; it opens its own client and pool unless the caller shares them.

    Raises ``InsecureSettings`` outside dev and test on settings that would leak PHI,
    and ``ValueError`` on a bad identity setting.
    """
    refuse_insecure(settings)
    for warning in warnings(settings):
        log.warning(warning)
    identities = authenticator_from_settings(settings)
    if not identities.configured:
        log.warning(
            "no credentials configured: every call but /healthz is refused "
            "(set API_TOKENS, API_TOKENS_FILE or OIDC_JWKS_URL)"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    open_docs = settings.is_dev
    policies = policies or default_registry()
    served = {policies.for_drug(code).id: policies.for_drug(code) for code in policies.hcpcs}
    drugs = ", ".join(f"{p.policy.drug} ({', '.join(p.billing.hcpcs)})" for p in served.values())
    no_docs: dict[str, Any] = {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(
        title="Prior authorization",
        version="0.1.0",
        description=DESCRIPTION.replace("DRUGS", drugs, 1),
        lifespan=lifespan,
        **({} if open_docs else no_docs),
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.identities = identities
    app.state.policies = policies
    if client is not None:
        app.state.client = client
    if pool is not None:
        app.state.pool = pool
    install_error_handlers(app)
    app.add_middleware(BodyLimits)
    app.add_middleware(AccessAudit)  # outermost: it sees every answer, refusals included

    @app.get("/healthz", tags=["ops"], responses=errors(*ANY_ROUTE))
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from api import routes_actions, routes_cases, routes_claims, routes_events, routes_timeline

    for module in (routes_cases, routes_actions, routes_claims, routes_events, routes_timeline):
        app.include_router(module.router)
    from api.fhir.routes import routers as fhir_routers

    for router in fhir_routers():
        app.include_router(router)
    _mount_codec(app, settings)
    install_workbench(app, settings)
    install_openapi(app)
    if not open_docs:
        _guarded_openapi(app)
    return app


def _guarded_openapi(app: FastAPI) -> None:
    """Production: the OpenAPI document for any valid token, no HTML pages."""

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_: Principal = Depends(require(*Role))) -> JSONResponse:
        return JSONResponse(app.openapi())


def _mount_codec(app: FastAPI, settings: Settings) -> None:
    """The codec server for the Temporal UI at /codec, for PHI-viewing roles only."""
    from api.codec_server import DEFAULT_UI_ORIGINS, CodecSessions, codec_router

    extra = [o.strip().rstrip("/") for o in settings.codec_ui_origins.split(",") if o.strip()]
    app.include_router(
        codec_router(
            settings,
            authenticate=authenticator(*PHI_VIEWERS),
            roles=(*PHI_VIEWERS, Role.ADMIN),
            admin=authenticator(Role.ADMIN),
            sessions=CodecSessions(timedelta(hours=settings.codec_session_hours)),
            allowed_origins=(*DEFAULT_UI_ORIGINS, *extra),
        ),
        prefix="/codec",
    )
