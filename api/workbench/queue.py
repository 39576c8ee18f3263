"""The review queue: every case waiting for a clinical reviewer, most urgent first.

A case waits for a reviewer while its ``review`` is open (domain/case/state.py):
an initial review (the engine's recommendation, or a pend whose deadline ran
out), an appeal, or a renewal review. Candidates come from two places, then
each candidate's own ``status`` query (the live truth) says whether a review is
open, of which kind, due when and whether it is escalated:

- Temporal visibility: running cases whose ``AuthStatus`` is ``in_review`` or
  ``appealed`` (initial reviews and appeals; a fixed query, no caller input);
- PostgreSQL: live cases (``active``, ``renewal_window``) whose latest renewal
  evaluation went to a reviewer and has no reviewer's decision after it (a
  renewal review leaves the status as it was, so visibility cannot find it).

The engine's recommendation is the latest automated decision's determination
(for an appeal: the denial under appeal), and the reviewer an appeal may not go
to is the one whose denial it appeals (from the decisions audit).

Order (``order``): escalated first, then by the time left on the decision clock
(the soonest due first; no due time last), then by case id.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio.client import Client

from api.search import WORKFLOW_TYPE
from cases.client import CaseClient
from cases.errors import CaseError
from infra.temporal import AUTH_STATUS
from workflows.messages import CaseStatusView

ReviewKind = Literal["initial", "appeal", "renewal"]
KINDS: tuple[ReviewKind, ...] = ("initial", "appeal", "renewal")
#: Statuses in which an initial review or an appeal is open.
REVIEW_STATUSES = ("in_review", "appealed")
#: How many cases are asked for their status at once.
QUERY_CONCURRENCY = 8
#: At most this many cases are listed (the most urgent first).
MAX_CASES = 500
#: A case that has not answered its status query by then is counted as unanswered (its
#: worker may be down); the queue is not held up for it.
QUERY_TIMEOUT_S = 10.0

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

_RENEWAL_REVIEWS = """
SELECT a.case_id FROM authorizations a
WHERE a.status IN ('active', 'renewal_window')
  AND EXISTS (
    SELECT 1 FROM decisions r
    WHERE r.case_id = a.case_id AND r.kind = 'renewal' AND r.automated
      AND r.determination IN ('review', 'deny')
      AND NOT EXISTS (
        SELECT 1 FROM decisions x
        WHERE x.case_id = a.case_id AND x.kind = 'renewal' AND NOT x.automated
          AND (x.decided_at, x.id) > (r.decided_at, r.id)
      )
  )
ORDER BY a.case_id
LIMIT $1
"""

_ENGINE = """
SELECT DISTINCT ON (case_id) case_id, determination
FROM decisions WHERE case_id = ANY($1) AND automated
ORDER BY case_id, decided_at DESC, id DESC
"""

_DENIER = """
SELECT DISTINCT ON (case_id) case_id, reviewer_id
FROM decisions WHERE case_id = ANY($1) AND NOT automated AND determination = 'deny'
ORDER BY case_id, decided_at DESC, id DESC
"""


class QueueFilter(BaseModel):
    """The queue's filters (a GET form): the review's kind and whether it is escalated."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["", "initial", "appeal", "renewal"] = ""
    escalated: Literal["", "yes", "no"] = ""

    def admits(self, item: QueueItem) -> bool:
        if self.kind and item.kind != self.kind:
            return False
        if self.escalated:
            return item.escalated == (self.escalated == "yes")
        return True


class QueueItem(BaseModel):
    """One case waiting for a reviewer."""

    case_id: str
    request_id: str
    kind: ReviewKind
    status: str
    escalated: bool = False
    due: datetime | None = None
    track: str | None = None
    path: str | None = None
    line_of_business: str
    urgency: str
    recommendation: str | None = None
    #: The reviewer who may not decide this review (the denial's, for an appeal).
    excluded_reviewer: str | None = None


class Queue(BaseModel):
    items: list[QueueItem]
    #: Candidates that did not answer their status query (no worker?): not listed.
    unanswered: int = 0
    #: The visibility query that found the initial reviews and appeals (no PHI).
    query: str


def order(items: list[QueueItem]) -> list[QueueItem]:
    """Escalated first, then the least time left on the clock, then by case id."""
    return sorted(items, key=lambda i: (not i.escalated, i.due or _FAR_FUTURE, i.case_id))


def time_left(due: datetime | None, now: datetime) -> str:
    """The countdown as words: ``5 h 12 min left``, ``overdue by 2 h 3 min``."""
    if due is None:
        return "no clock"
    seconds = int((due - now).total_seconds())
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else [])
    parts.append(f"{mins} min")
    span = " ".join(parts)
    return f"{span} left" if seconds >= 0 else f"overdue by {span}"


def review_query() -> str:
    statuses = " OR ".join(f'{AUTH_STATUS.name} = "{s}"' for s in REVIEW_STATUSES)
    return f'WorkflowType = "{WORKFLOW_TYPE}" AND ExecutionStatus = "Running" AND ({statuses})'


def item_from(view: CaseStatusView, recommendation: str | None, denier: str | None) -> QueueItem:
    kind = view.review_kind or "initial"
    return QueueItem(
        case_id=view.case_id,
        request_id=view.request_id,
        kind=kind,  # type: ignore[arg-type]
        status=view.status,
        escalated=view.escalated,
        due=view.review_due,
        track=view.track,
        path=view.path,
        line_of_business=view.line_of_business,
        urgency=view.urgency,
        recommendation="deny" if kind == "appeal" else recommendation,
        excluded_reviewer=denier if kind == "appeal" else None,
    )


async def candidates(client: Client, pool: asyncpg.Pool) -> tuple[list[str], str]:
    query = review_query()
    found = [e.id async for e in client.list_workflows(query, limit=MAX_CASES)]
    renewals = [r["case_id"] for r in await pool.fetch(_RENEWAL_REVIEWS, MAX_CASES)]
    return list(dict.fromkeys([*found, *renewals])), query


async def engine_and_denier(
    pool: asyncpg.Pool, case_ids: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each case's latest engine determination and its latest denying reviewer."""
    engine = {r["case_id"]: r["determination"] for r in await pool.fetch(_ENGINE, case_ids)}
    denier = {
        r["case_id"]: r["reviewer_id"]
        for r in await pool.fetch(_DENIER, case_ids)
        if r["reviewer_id"]
    }
    return engine, denier


async def load_queue(cases: CaseClient, pool: asyncpg.Pool, f: QueueFilter) -> Queue:
    ids, query = await candidates(cases.client, pool)
    gate = asyncio.Semaphore(QUERY_CONCURRENCY)

    async def ask(case_id: str) -> CaseStatusView | None:
        async with gate:
            try:
                async with asyncio.timeout(QUERY_TIMEOUT_S):
                    return await cases.status(case_id)
            except (CaseError, TimeoutError):
                return None

    views = await asyncio.gather(*(ask(i) for i in ids))
    engine, denier = await engine_and_denier(pool, ids)
    items = [
        item_from(v, engine.get(v.case_id), denier.get(v.case_id))
        for v in views
        if v is not None and v.review_kind is not None
    ]
    return Queue(
        items=order([i for i in items if f.admits(i)]),
        unanswered=sum(v is None for v in views),
        query=query,
    )
