"""What the workbench's case page shows, read the way the API reads a case.

The case itself (status, periods, cycles, units, status changes, decisions and
notices) is ``api.case_view.read_case``, the same read as ``GET /cases/{id}``;
the timeline is the same picture as ``GET /cases/{id}/timeline.svg``. Added for
a reviewer:

- the request as the case holds it now (the workflow's ``request`` query):
  PHI, read only for the roles that may see it;
- the engine's latest decision (its track, path, missing facts, period,
  units and dosing plan) and the criteria tree it rests on, from the
  decisions audit (the latest row carrying a trace: the one the open review
  is about);
- the claim lines of the case, from the claims ledger;
- which reviewer may not decide an open appeal (the denial's).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
from pydantic import ValidationError

from api import case_records, case_view
from api.case_records import ClaimRecord
from api.case_view import CaseView
from api.timeline_svg import render_timeline
from cases.client import CaseClient
from cases.errors import CaseError
from domain.decision import Decision, TraceNode
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry
from domain.request import PARequest

_ENGINE_DECISION = """
SELECT kind, decision, decided_at FROM decisions
WHERE case_id = $1 AND automated AND decision IS NOT NULL
ORDER BY decided_at DESC, id DESC LIMIT 1
"""
_TRACE = """
SELECT kind, trace, decided_at FROM decisions
WHERE case_id = $1 AND trace IS NOT NULL
ORDER BY decided_at DESC, id DESC LIMIT 1
"""
_DENIER = """
SELECT reviewer_id FROM decisions
WHERE case_id = $1 AND NOT automated AND determination = 'deny'
ORDER BY decided_at DESC, id DESC LIMIT 1
"""


@dataclass
class CasePage:
    view: CaseView
    request: PARequest | None = None
    request_note: str = ""
    engine: Decision | None = None
    engine_kind: str | None = None
    trace: TraceNode | None = None
    trace_kind: str | None = None
    claims: list[ClaimRecord] = field(default_factory=list)
    timeline_data_uri: str | None = None
    excluded_reviewer: str | None = None
    tracks: list[tuple[str, str]] = field(default_factory=list)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def policy_tracks(policy: Policy) -> list[tuple[str, str]]:
    """(id, label) of every track of the case's policy, for the approval's track choice."""
    return [(name, track.label) for name, track in policy.tracks.items()]


async def case_tracks(
    cases: CaseClient, case_id: str, policies: PolicyRegistry
) -> list[tuple[str, str]]:
    """The tracks of the case's own policy (its ``policy_ref``), read from the case."""
    status = await cases.status(case_id)
    return policy_tracks(policies.resolve(status.policy_ref))


async def read_page(
    cases: CaseClient,
    pool: asyncpg.Pool,
    case_id: str,
    *,
    with_phi: bool,
    today: date,
    policies: PolicyRegistry,
) -> CasePage:
    view = await case_view.read_case(cases, pool, case_id)
    page = CasePage(view=view, tracks=policy_tracks(policies.resolve(view.summary.policy_ref)))
    if with_phi:
        try:
            page.request = await cases.request(case_id)
        except CaseError:
            page.request_note = "the case did not answer with its request (an older worker?)"
    else:
        page.request_note = "the request's facts are shown to reviewers only"
    engine = await pool.fetchrow(_ENGINE_DECISION, case_id)
    if engine is not None:
        try:
            page.engine = Decision.model_validate(_json(engine["decision"]))
            page.engine_kind = engine["kind"]
        except ValidationError:
            page.engine = None
    trace = await pool.fetchrow(_TRACE, case_id)
    if trace is not None:
        try:
            page.trace = TraceNode.model_validate(_json(trace["trace"]))
            page.trace_kind = trace["kind"]
        except ValidationError:
            page.trace = None
    page.excluded_reviewer = await pool.fetchval(_DENIER, case_id)
    page.claims = await case_records.claims(pool, case_id)
    try:
        data = await case_view.read_timeline(cases, pool, case_id, today, policies)
        svg = render_timeline(data).encode()
        page.timeline_data_uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    except CaseError:
        page.timeline_data_uri = None
    return page


def request_facts(request: PARequest) -> list[tuple[str, str]]:
    """The request as (dotted fact, value as text) rows, in the request's own order."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, list):
            rows.append((prefix, ", ".join(str(v) for v in value) or "none"))
        else:
            rows.append((prefix, "not stated" if value is None else str(value)))

    walk("", request.model_dump(mode="json"))
    return rows


def seen_value(value: Any) -> str:
    """A trace node's value as the tree shows it: an age criterion's age on the day it was
    evaluated on (the trace never holds the date of birth), ``age 20`` or ``age 0 years,
    5 months``; any other value as JSON."""
    if isinstance(value, dict) and set(value) in ({"years"}, {"years", "months"}):
        if "months" not in value:
            return f"age {value['years']}"
        return f"age {value['years']} years, {value['months']} months"
    return json.dumps(value, ensure_ascii=False)
