"""The HTTP API application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from temporalio.client import Client

from infra.settings import Settings


def create_app(
    settings: Settings, *, client: Client | None = None, pool: asyncpg.Pool | None = None
) -> FastAPI:
    """Build the API; it opens its own client and pool unless the caller shares them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import worker

        owned_pool = None
        app.state.client = client or await worker.connect_client(settings)
        if pool is None:
            owned_pool = await worker.open_pool(settings)
        app.state.pool = pool or owned_pool
        app.state.settings = settings
        try:
            yield
        finally:
            if owned_pool is not None:
                await owned_pool.close()

    app = FastAPI(
        title="Blincyto prior authorization",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
