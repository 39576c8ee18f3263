"""What PostgreSQL holds about a case, read for the API (decisions, notices, claims).

Read-only queries over the tables the activities write (migrations/0001):
the decisions audit, the notifications outbox and the claims ledger. Rows are
returned as models; the evaluation trace stays out of the case view (it is
in the decision's own JSON for whoever needs it).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, Field


class DecisionRecord(BaseModel):
    kind: str
    determination: str
    automated: bool
    x12_action: str | None = None
    track: str | None = None
    path: str | None = None
    reviewer_id: str | None = None
    actor: str | None = None  # whose message it answers (README, Security)
    rationale: str | None = None
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    policy_id: str
    policy_version: str
    decided_at: datetime


class NoticeRecord(BaseModel):
    kind: str
    actor: str | None = None  # whose message caused it; None: the case's clocks
    recipient: str
    channel: str
    status: str
    attempts: int
    text: str = ""
    created_at: datetime
    sent_at: datetime | None = None


class ClaimRecord(BaseModel):
    claim_id: str
    line: int
    reversal: bool
    date_of_service: date
    units: int
    status: str
    allowed_units: int
    denied_units: int
    carc_codes: list[str] = Field(default_factory=list)
    sent_by: str | None = None  # the claims system's subject


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def decisions(pool: asyncpg.Pool, case_id: str) -> list[DecisionRecord]:
    rows = await pool.fetch(
        """
        SELECT kind, determination, automated, reviewer_id, actor, rationale, reasons,
               policy_id, policy_version, decided_at,
               decision->>'x12_action' AS x12_action, decision->>'track' AS track,
               decision->>'path' AS path
        FROM decisions WHERE case_id = $1 ORDER BY decided_at, id
        """,
        case_id,
    )
    return [DecisionRecord(**{**dict(r), "reasons": _json(r["reasons"]) or []}) for r in rows]


async def notices(pool: asyncpg.Pool, case_id: str) -> list[NoticeRecord]:
    rows = await pool.fetch(
        """
        SELECT kind, actor, recipient, channel, status, attempts, text, created_at, sent_at
        FROM notifications WHERE case_id = $1 ORDER BY created_at, id
        """,
        case_id,
    )
    return [NoticeRecord(**dict(r)) for r in rows]


async def claims(pool: asyncpg.Pool, case_id: str) -> list[ClaimRecord]:
    rows = await pool.fetch(
        """
        SELECT claim_id, line, reversal, date_of_service, units, status,
               allowed_units, denied_units, carc_codes, sent_by
        FROM claim_lines WHERE case_id = $1 ORDER BY date_of_service, id
        """,
        case_id,
    )
    return [ClaimRecord(**{**dict(r), "carc_codes": list(r["carc_codes"] or [])}) for r in rows]


async def treatment_days(pool: asyncpg.Pool, case_id: str) -> dict[int, int]:
    """Cycle number -> treatment days, from the dosing plans of the case's decisions."""
    rows = await pool.fetch(
        """
        SELECT decision->'dosing'->'cycles' AS cycles FROM decisions
        WHERE case_id = $1 AND decision->'dosing' IS NOT NULL
        ORDER BY decided_at, id
        """,
        case_id,
    )
    plan: dict[int, int] = {}
    for row in rows:
        for cycle in _json(row["cycles"]) or []:
            if isinstance(cycle, dict) and "cycle" in cycle and "treatment_days" in cycle:
                plan[int(cycle["cycle"])] = int(cycle["treatment_days"])
    return plan
