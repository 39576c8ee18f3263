"""The claims ledger: each claim line adjudicated once, atomically, per member.

POLICY.md, "Claims against an authorization" and Section II (980 units in
any 42 consecutive days per member, across all of the member's
authorizations; a period pays at most 980 × its cycles). The answer itself
comes from the pure domain (``domain.adjudication.adjudicate``); this module
gives it what the ledger knows, in ONE transaction:

1. ``pg_advisory_xact_lock`` on the member (and on the claim line), so two
   claims of one member are decided one after the other and can never both
   take the last units; locks end with the transaction;
2. a line already in the ledger (same claim id + line + reversal flag): the
   identical line gets the stored answer again and nothing is counted twice;
   a different line is denied (CARC 16) by the domain, changes nothing in
   ``claim_lines`` and its answer is kept in ``claim_line_rejections``;
3. the member's units by date of service within ±41 days of this line's date
   (every 42-day window that contains the date), over all the member's cases,
   and the units this case already paid in each of its periods;
4. ``adjudicate`` decides; the line is inserted with its answer.

Reversals are rows of their own (``reversal = true``) with ``allowed_units``
equal to minus the units the original was paid, dated on the original's date
of service. ``sum(allowed_units)`` is therefore the units paid over any
window and any period, and nothing is ever updated (the table is
append-only). A repeated reversal is a replay of that row.

``line_json`` is the line as received without ``member_id``: the member is
kept as ``member_ref`` (a keyed hash) only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio import activity

from activities.models import AdjudicateClaimInput, ClaimAnswer
from domain.adjudication import ClaimContext, PeriodUnits, PriorLine, adjudicate
from domain.claim import ClaimLine
from domain.policy import Policy

log = structlog.get_logger(__name__)

# Namespaces of the two-key advisory locks (keep distinct from other users).
MEMBER_LOCK = 5_001
CLAIM_LOCK = 5_002

_SEEN = """
SELECT reversal, member_ref, line_json, answer
FROM claim_lines WHERE claim_id = $1 AND line = $2
"""

_MEMBER_UNITS = """
SELECT date_of_service, sum(allowed_units)::int AS units
FROM claim_lines
WHERE member_ref = $1 AND date_of_service BETWEEN $2 AND $3
GROUP BY date_of_service
HAVING sum(allowed_units) <> 0
ORDER BY date_of_service
"""

_PERIOD_UNITS = """
SELECT COALESCE(sum(allowed_units), 0)::int
FROM claim_lines WHERE case_id = $1 AND date_of_service BETWEEN $2 AND $3
"""

_INSERT_LINE = """
INSERT INTO claim_lines (
    claim_id, line, reversal, case_id, member_ref, date_of_service, units, status,
    allowed_units, denied_units, carc_codes, answer, line_json
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""

_INSERT_REJECTION = """
INSERT INTO claim_line_rejections (
    claim_id, line, reversal, case_id, member_ref, content_hash, answer, line_json
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (claim_id, line, reversal, content_hash) DO NOTHING
"""


def stored_line(line: ClaimLine) -> dict[str, Any]:
    """The line as the ledger keeps it: everything but the member id."""
    return line.model_dump(mode="json", exclude={"member_id"})


def content_hash(line_json: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(line_json, sort_keys=True).encode()).hexdigest()


class ClaimsLedger:
    """The ``adjudicate_claim`` activity over the ``claim_lines`` ledger."""

    def __init__(self, pool: asyncpg.Pool, policy: Policy) -> None:
        self._pool = pool
        self._policy = policy
        self._reach = timedelta(days=policy.units.window_days - 1)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.adjudicate_claim]

    @activity.defn
    async def adjudicate_claim(self, inp: AdjudicateClaimInput) -> ClaimAnswer:
        """Decide one claim line against a live case (POLICY.md, Claims; Section II)."""
        line = inp.line
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))", MEMBER_LOCK, inp.member_ref
            )
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                CLAIM_LOCK,
                f"{line.claim_id}\x1f{line.line}",
            )
            rows = {r["reversal"]: r for r in await conn.fetch(_SEEN, line.claim_id, line.line)}
            # The latest row of this claim line: its reversal once there is one.
            latest = rows.get(True) or rows.get(False)
            if latest is not None and self._identical(latest, inp):
                log.info(
                    "claim line replayed",
                    case=inp.case_id,
                    claim_id=line.claim_id,
                    line=line.line,
                    reversal=line.reversal,
                )
                return ClaimAnswer.model_validate(latest["answer"])
            ctx = await self._context(conn, inp, latest)
            answer = adjudicate(line, ctx, self._policy)
            if (latest is None and not line.reversal) or (
                line.reversal and latest is not None and answer.reversal
            ):
                await self._insert_line(conn, inp, answer)
            else:
                await self._insert_rejection(conn, inp, answer)
        log.info(
            "claim line adjudicated",
            case=inp.case_id,
            claim_id=line.claim_id,
            line=line.line,
            reversal=line.reversal,
            status=answer.status,
            allowed_units=answer.allowed_units,
            carc=answer.carc_codes,
        )
        return answer

    @staticmethod
    def _identical(row: asyncpg.Record, inp: AdjudicateClaimInput) -> bool:
        return row["member_ref"] == inp.member_ref and row["line_json"] == stored_line(inp.line)

    async def _context(
        self, conn: asyncpg.Connection, inp: AdjudicateClaimInput, latest: asyncpg.Record | None
    ) -> ClaimContext:
        """What the ledger knows that the domain needs (Section II), read under the lock."""
        dos = inp.line.date_of_service
        window = await conn.fetch(
            _MEMBER_UNITS, inp.member_ref, dos - self._reach, dos + self._reach
        )
        periods = [
            PeriodUnits(
                start=p.start,
                end=p.end,
                authorized_units=p.authorized_units,
                paid_units=await conn.fetchval(_PERIOD_UNITS, inp.case_id, p.start, p.end),
            )
            for p in inp.periods
        ]
        previous = None
        if latest is not None:
            same_member = latest["member_ref"] == inp.member_ref
            previous = PriorLine(
                line=ClaimLine.model_validate(
                    {
                        **latest["line_json"],
                        "member_id": inp.line.member_id if same_member else "another member",
                    }
                ),
                answer=ClaimAnswer.model_validate(latest["answer"]),
            )
        return ClaimContext(
            previous=previous,
            periods=periods,
            death_date=inp.death_date,
            discontinued_date=inp.discontinued_date,
            member_paid_units=[(r["date_of_service"], r["units"]) for r in window],
            policy_id=self._policy.id,
        )

    async def _insert_line(
        self, conn: asyncpg.Connection, inp: AdjudicateClaimInput, answer: ClaimAnswer
    ) -> None:
        line = inp.line
        await conn.execute(
            _INSERT_LINE,
            line.claim_id,
            line.line,
            line.reversal,
            inp.case_id,
            inp.member_ref,
            line.date_of_service,
            line.units,
            answer.status,
            answer.allowed_units,
            answer.denied_units,
            list(answer.carc_codes),
            answer.model_dump(mode="json"),
            stored_line(line),
        )

    async def _insert_rejection(
        self, conn: asyncpg.Connection, inp: AdjudicateClaimInput, answer: ClaimAnswer
    ) -> None:
        """A CARC 16 answer: nothing counted, but the answer is on record (once per content)."""
        incoming = stored_line(inp.line)
        await conn.execute(
            _INSERT_REJECTION,
            inp.line.claim_id,
            inp.line.line,
            inp.line.reversal,
            inp.case_id,
            inp.member_ref,
            content_hash({**incoming, "member_ref": inp.member_ref}),
            answer.model_dump(mode="json"),
            incoming,
        )
        log.warning(
            "claim line refused as a duplicate",
            case=inp.case_id,
            claim_id=inp.line.claim_id,
            line=inp.line.line,
            carc=answer.carc_codes,
        )
