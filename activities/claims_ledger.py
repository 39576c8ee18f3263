"""The claims ledger: each claim line adjudicated once, atomically, per member and drug.

POLICY.md, "Claims against an authorization" and Section II (the policy's
unit limit in any window of its days per member, across all of the member's
authorizations *for that drug*; a period pays at most the units per cycle ×
its cycles). Every line is kept with the case's policy id (``policy_id``), and
the member's window sums only the lines of that policy, so a member with cases
on two drugs has two windows. The answer itself
comes from the pure domain (``domain.adjudication.adjudicate``); this module
gives it what the ledger knows, in ONE transaction:

1. ``pg_advisory_xact_lock`` on the member and on the claim line (one
   statement), so two claims of one member are decided one after the other
   and can never both take the last units; locks end with the transaction;
2. one read (``_LEDGER_VIEW``): the rows of this claim line, the member's
   units of this policy by date of service within ± (window - 1) days of this
   line's date (every window that contains the date) over all the member's
   cases under the policy, the units this
   case already paid in each of its periods and in all;
3. a line already in the ledger (same claim id + line + reversal flag): the
   identical line gets the stored answer again and nothing is counted twice;
   a different line is denied (CARC 16) by the domain, changes nothing in
   ``claim_lines`` and its answer is kept in ``claim_line_rejections``;
4. ``adjudicate`` decides; one write inserts the line with its answer and,
   when it moved units, sets ``authorizations.units_paid`` to the case's new
   total, so the case's record follows every paid line without a projection
   of its own (the ledger is the only writer of ``units_paid`` once the record
   exists: ``CaseStore.project_in`` never overwrites it).

Five round trips in all, with BEGIN and COMMIT.

Reversals are rows of their own (``reversal = true``) with ``allowed_units``
equal to minus the units the original was paid, dated on the original's date
of service. ``sum(allowed_units)`` is therefore the units paid over any
window and any period, and nothing is ever updated (the table is
append-only). A repeated reversal is a replay of that row.

``line_json`` is the line as received without ``member_id``: the member is
kept as ``member_ref`` (a keyed hash) only. ``sent_by`` is the subject of the
claims system that sent the line (its credential, README, Security); a replayed
line keeps the first sender's row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.locks import CLAIM_LOCK, MEMBER_LOCK
from activities.models import AdjudicateClaimInput, ClaimAnswer
from domain.adjudication import ClaimContext, PeriodUnits, PriorLine, adjudicate
from domain.claim import ClaimLine
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry

log = structlog.get_logger(__name__)

_LOCK = """
SELECT pg_advisory_xact_lock($1, hashtext($2)), pg_advisory_xact_lock($3, hashtext($4))
"""

# Read under the locks, in one statement: the rows of this claim line, the member's
# units under policy $9 by date of service in [$4, $5], this case's paid units per period
# ($7..$8 are the periods' starts and ends) and in all.
_LEDGER_VIEW = """
SELECT
    ARRAY(
        SELECT json_build_object(
            'reversal', reversal, 'member_ref', member_ref,
            'line_json', line_json, 'answer', answer)
        FROM claim_lines WHERE claim_id = $1 AND line = $2
    ) AS seen,
    ARRAY(
        SELECT json_build_array(date_of_service, units) FROM (
            SELECT date_of_service, sum(allowed_units)::int AS units
            FROM claim_lines
            WHERE member_ref = $3 AND policy_id = $9 AND date_of_service BETWEEN $4 AND $5
            GROUP BY date_of_service
            HAVING sum(allowed_units) <> 0
        ) w ORDER BY date_of_service
    ) AS member_units,
    ARRAY(
        SELECT COALESCE(sum(c.allowed_units), 0)::int
        FROM unnest($7::date[], $8::date[]) WITH ORDINALITY AS p(first_day, last_day, n)
        LEFT JOIN claim_lines c
            ON c.case_id = $6 AND c.date_of_service BETWEEN p.first_day AND p.last_day
        GROUP BY p.n ORDER BY p.n
    ) AS period_units,
    (SELECT COALESCE(sum(allowed_units), 0)::int FROM claim_lines WHERE case_id = $6)
        AS case_units
"""

_INSERT_LINE = """
WITH line AS (
    INSERT INTO claim_lines (
        claim_id, line, reversal, case_id, member_ref, date_of_service, units, status,
        allowed_units, denied_units, carc_codes, answer, line_json, sent_by, policy_id
    ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, $16)
    RETURNING case_id, allowed_units
)
UPDATE authorizations a SET units_paid = $14
FROM line WHERE a.case_id = line.case_id AND line.allowed_units <> 0
"""

_INSERT_REJECTION = """
INSERT INTO claim_line_rejections (
    claim_id, line, reversal, case_id, member_ref, content_hash, answer, line_json, sent_by,
    policy_id
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (claim_id, line, reversal, content_hash) DO NOTHING
"""


def stored_line(line: ClaimLine) -> dict[str, Any]:
    """The line as the ledger keeps it: everything but the member id."""
    return line.model_dump(mode="json", exclude={"member_id"})


def content_hash(line_json: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(line_json, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class _LedgerView:
    """``_LEDGER_VIEW``'s row, decoded."""

    seen: dict[bool, dict[str, Any]]  # the claim line's rows by their reversal flag
    member_units: list[tuple[date, int]]
    period_units: list[int]  # in the order of the input's periods
    case_units: int


class ClaimsLedger:
    """The ``adjudicate_claim`` activity over the ``claim_lines`` ledger, each line under
    its case's policy (``AdjudicateClaimInput.policy_ref``; None: the Blincyto policy)."""

    def __init__(self, pool: asyncpg.Pool, policies: PolicyRegistry) -> None:
        self._pool = pool
        self._policies = policies

    def activities(self) -> list[Callable[..., Any]]:
        return [self.adjudicate_claim]

    @activity.defn
    async def adjudicate_claim(self, inp: AdjudicateClaimInput) -> ClaimAnswer:
        """Decide one claim line against a case, live or in its claims run-out (POLICY.md,
        Claims; Section II)."""
        line = inp.line
        try:
            policy = self._policies.resolve(inp.policy_ref)
        except LookupError as err:
            raise ApplicationError(
                f"no policy for this case: {err}", type="UnknownPolicy", non_retryable=True
            ) from err
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                _LOCK,
                MEMBER_LOCK,
                inp.member_ref,
                CLAIM_LOCK,
                f"{line.claim_id}\x1f{line.line}",
            )
            view = await self._view(conn, inp, policy)
            # The latest row of this claim line: its reversal once there is one.
            latest = view.seen.get(True) or view.seen.get(False)
            if latest is not None and self._identical(latest, inp):
                log.info(
                    "claim line replayed",
                    case=inp.case_id,
                    claim_id=line.claim_id,
                    line=line.line,
                    reversal=line.reversal,
                )
                return ClaimAnswer.model_validate(latest["answer"])
            answer = adjudicate(line, self._context(inp, view, latest, policy), policy)
            if (latest is None and not line.reversal) or (
                line.reversal and latest is not None and answer.reversal
            ):
                await self._insert_line(conn, inp, answer, view.case_units, policy.id)
            else:
                await self._insert_rejection(conn, inp, answer, policy.id)
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
    def _identical(row: dict[str, Any], inp: AdjudicateClaimInput) -> bool:
        same: bool = row["member_ref"] == inp.member_ref and row["line_json"] == stored_line(
            inp.line
        )
        return same

    async def _view(
        self, conn: PoolConnectionProxy, inp: AdjudicateClaimInput, policy: Policy
    ) -> _LedgerView:
        """What the ledger holds for this line, its member on this drug and its case, read
        under the lock."""
        dos = inp.line.date_of_service
        reach = timedelta(days=policy.units.window_days - 1)
        row = await conn.fetchrow(
            _LEDGER_VIEW,
            inp.line.claim_id,
            inp.line.line,
            inp.member_ref,
            dos - reach,
            dos + reach,
            inp.case_id,
            [p.start for p in inp.periods],
            [p.end for p in inp.periods],
            policy.id,
        )
        assert row is not None  # one row of aggregates, whatever the ledger holds
        return _LedgerView(
            seen={r["reversal"]: r for r in row["seen"]},
            member_units=[(date.fromisoformat(d), units) for d, units in row["member_units"]],
            period_units=list(row["period_units"]),
            case_units=row["case_units"],
        )

    def _context(
        self,
        inp: AdjudicateClaimInput,
        view: _LedgerView,
        latest: dict[str, Any] | None,
        policy: Policy,
    ) -> ClaimContext:
        """What the ledger knows that the domain needs (Section II)."""
        periods = [
            PeriodUnits(
                start=p.start, end=p.end, authorized_units=p.authorized_units, paid_units=paid
            )
            for p, paid in zip(inp.periods, view.period_units, strict=True)
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
            withdrawn_on=inp.withdrawn_on,
            received_on=inp.received_on,
            timely_filing_days=inp.timely_filing_days
            if inp.timely_filing_days is not None
            else policy.timely_filing_days(inp.line_of_business),
            member_paid_units=view.member_units,
            policy_id=policy.id,
        )

    async def _insert_line(
        self,
        conn: PoolConnectionProxy,
        inp: AdjudicateClaimInput,
        answer: ClaimAnswer,
        case_units: int,
        policy_id: str,
    ) -> None:
        """Append the line; the case's record takes its new units total in the same statement."""
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
            case_units + answer.allowed_units,
            inp.sent_by,
            policy_id,
        )

    async def _insert_rejection(
        self,
        conn: PoolConnectionProxy,
        inp: AdjudicateClaimInput,
        answer: ClaimAnswer,
        policy_id: str,
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
            inp.sent_by,
            policy_id,
        )
        log.warning(
            "claim line refused as a duplicate",
            case=inp.case_id,
            claim_id=inp.line.claim_id,
            line=inp.line.line,
            carc=answer.carc_codes,
        )
