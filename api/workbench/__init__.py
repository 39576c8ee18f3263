"""The reviewer workbench: the clinical review queue in a browser, served by the API.

Server-rendered HTML (Jinja2 templates, one stylesheet, no script) under
``/workbench``: the queue (api/workbench/queue.py), a case page
(api/workbench/case_page.py) with the decision form, and a login that trades a
bearer token for a session cookie (api/workbench/session.py). Routes:
api/workbench/routes.py. README, "Reviewer workbench".
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.workbench.session import WorkbenchSessions
from infra.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def install_workbench(app: FastAPI, settings: Settings) -> None:
    """Mount the workbench's routes and its stylesheet on the API."""
    from api.workbench.routes import router

    app.state.workbench_sessions = WorkbenchSessions(
        timedelta(hours=settings.workbench_session_hours)
    )
    app.include_router(router)
    app.mount("/workbench/static", StaticFiles(directory=STATIC_DIR), name="workbench_static")
