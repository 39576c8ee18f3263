"""Request-scoped access to what the app was built with (client, pool, settings)."""

from __future__ import annotations

import asyncpg
from fastapi import Path, Request
from temporalio.client import Client

from api.errors import not_found
from cases.client import CaseClient
from domain.case_id import CASE_PREFIX
from domain.policy_registry import PolicyRegistry
from infra.settings import Settings

MAX_CASE_ID = 256


def temporal(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


def cases(request: Request) -> CaseClient:
    """The case client over the app's Temporal client, made once per app."""
    state = request.app.state
    found = getattr(state, "cases", None)
    if found is None or found.client is not state.client:
        found = state.cases = CaseClient.from_settings(
            state.client, state.settings, policies=getattr(state, "policies", None)
        )
    return found


def db(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def policies(request: Request) -> PolicyRegistry:
    """The policy registry the app serves (every case is shown under its own policy)."""
    found: PolicyRegistry = request.app.state.policies
    return found


def case_id(
    case_id: str = Path(description="The case id, `pa-<request_id>`", examples=["pa-REQ-1001"]),
) -> str:
    """A path's case id; anything that cannot be a case id is simply not found."""
    if (
        not case_id.startswith(CASE_PREFIX)
        or len(case_id) > MAX_CASE_ID
        or len(case_id) == len(CASE_PREFIX)
        or any(ord(ch) < 32 for ch in case_id)
    ):
        raise not_found(case_id[:80])
    return case_id
