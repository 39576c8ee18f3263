"""The API served over real HTTP for a test: uvicorn on a free port, stopped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any


@contextlib.asynccontextmanager
async def served_api(settings: Any, client: Any, pool: Any) -> AsyncIterator[str]:
    """``api.app.create_app`` on 127.0.0.1 and a free port; yields its base URL."""
    import uvicorn

    from api.app import create_app
    from infra.devserver import free_port

    port = free_port()
    app = create_app(settings, client=client, pool=pool)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: raise why
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
