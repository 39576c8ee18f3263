"""The case record in PostgreSQL: decisions, the authorization projection, clinical events.

DESIGN.md, Persistence. Temporal holds the live state of a case; these rows
are what must outlive it and what a payer shows later. Every write is keyed
and idempotent (``INSERT … ON CONFLICT``), so Temporal may retry any of these
activities freely:

- ``decisions`` is append-only (a trigger refuses UPDATE/DELETE), one row per
  ``decision_key``, holding the whole decision, its reasons with policy
  citations and its evaluation trace (Section III "the result carries the
  whole tree"), with the policy id and version it ran, and its ``actor``:
  the subject whose message it answers (README, Security), and the facts it
  was decided on (the request as it stood, without the member's identity:
  ``domain.decision_facts``, and the prior cycles counted), which
  ``priorauth policy impact`` re-decides;
- ``authorizations`` holds one row per case, replaced only by a projection
  with a greater ``version``. Its ``units_paid`` is the ledger's: the first
  projection of a case inserts the sum of its ``claim_lines`` (none yet: a
  case answers claim lines only once it has decided, and its decision writes
  the projection with the decision row), and from then on only the claims
  ledger writes it, with each paid line, under the member's lock and in the
  line's own transaction; a projection never overwrites it, so the case need
  not project itself after every claim nor take the ledger's lock;
- ``clinical_events`` holds one row per case + event id ("repeated event ids
  are ignored", CONTRACT.md), with the subject of the system that sent it.

Prior therapy (POLICY.md Section I, "Prior therapy"): the member's earlier
cycles are the highest cycle any of the member's *other* cases under the same
policy (the same drug: ``authorizations.policy_id``) reached: a
case granted from cycle ``first_cycle`` (numbered on from the cycles the
member had before it) that started ``cycles_started`` cycles has reached
``first_cycle - 1 + cycles_started``. Cases recorded before grants continued
the numbering start at cycle 1, so for them the sum of ``cycles_started`` is
the count; the larger of the two is taken. ``cycles_started`` is what the
workflow counted for the case (cycle boundaries and ``cycle_started``
events); units in ``claim_lines`` cannot be mapped back to cycles without the
case's track and dosing, so they are not used for this count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeAlias

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
from pydantic import TypeAdapter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import (
    AuthorizationProjection,
    ClinicalEventInput,
    MemberHistory,
    MemberHistoryInput,
    RecordDecisionInput,
    RecordResult,
)
from domain.decision import Decision, Reason
from domain.decision_facts import facts_of
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry

log = structlog.get_logger(__name__)

_REASONS = TypeAdapter(list[Reason])

#: Where a write runs: the pool (its own transaction) or the caller's connection.
Executor: TypeAlias = asyncpg.Pool | PoolConnectionProxy

_INSERT_DECISION = """
INSERT INTO decisions (
    decision_key, case_id, request_id, kind, determination, automated, reviewer_id,
    rationale, decision, reasons, trace, policy_id, policy_version, urgency,
    line_of_business, received_at, decided_at, actor, request, prior_cycles, extends_review,
    due_at, granted
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10::text::jsonb,
    COALESCE($11::text::jsonb, (SELECT trace FROM decisions WHERE decision_key = $18)),
    $12, $13, $14, $15, $16, $17, $19, $20, $21, $22, $23, $24
)
ON CONFLICT (decision_key) DO NOTHING
RETURNING id
"""

_UPSERT_AUTHORIZATION = """
INSERT INTO authorizations (
    case_id, request_id, member_ref, version, status, track, path, line_of_business,
    urgency, periods, renewals_used, cycles_started, units_authorized, units_paid,
    period_end, escalated, received_at, updated_at, policy_id, policy_version
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
    (SELECT COALESCE(sum(allowed_units), 0)::int FROM claim_lines WHERE case_id = $1),
    $14, $15, $16, $17, $18, $19
)
ON CONFLICT (case_id) DO UPDATE SET
    request_id = EXCLUDED.request_id,
    member_ref = EXCLUDED.member_ref,
    version = EXCLUDED.version,
    status = EXCLUDED.status,
    track = EXCLUDED.track,
    path = EXCLUDED.path,
    line_of_business = EXCLUDED.line_of_business,
    urgency = EXCLUDED.urgency,
    periods = EXCLUDED.periods,
    renewals_used = EXCLUDED.renewals_used,
    cycles_started = EXCLUDED.cycles_started,
    units_authorized = EXCLUDED.units_authorized,
    period_end = EXCLUDED.period_end,
    escalated = EXCLUDED.escalated,
    received_at = EXCLUDED.received_at,
    updated_at = EXCLUDED.updated_at,
    policy_id = EXCLUDED.policy_id,
    policy_version = EXCLUDED.policy_version,
    recorded_at = now()
WHERE authorizations.version < EXCLUDED.version
RETURNING case_id
"""

_INSERT_EVENT = """
INSERT INTO clinical_events (
    case_id, event_id, member_ref, type, event_date, event, received_at, sent_by
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (case_id, event_id) DO NOTHING
RETURNING id
"""


class CaseStore:
    """Activities that write (and read back) the durable record of each case; a case's
    rows are keyed by its policy's id (``policy_ref``; None: the Blincyto policy)."""

    def __init__(self, pool: asyncpg.Pool, policies: PolicyRegistry) -> None:
        self._pool = pool
        self._policies = policies

    def _policy_id(self, ref: str | None) -> str:
        return self._policy(ref).id

    def _policy(self, ref: str | None) -> Policy:
        try:
            return self._policies.resolve(ref)
        except LookupError as err:
            raise ApplicationError(
                f"no policy for this case: {err}", type="UnknownPolicy", non_retryable=True
            ) from err

    def activities(self) -> list[Callable[..., Any]]:
        return [self.record_decision, self.project_authorization, self.record_clinical_event]

    async def member_history(
        self, inp: MemberHistoryInput, conn: Executor | None = None
    ) -> MemberHistory:
        """The cycles the member's other cases on the same drug reached (Section I, "Prior
        therapy").

        Not an activity: read inside ``CaseDecisions.decide_request``, the one local
        activity of a decision (on its connection ``conn``).
        """
        cycles = await (conn or self._pool).fetchval(
            """
            SELECT GREATEST(
                COALESCE(max(COALESCE((periods->0->>'first_cycle')::int, 1) - 1
                             + cycles_started), 0),
                COALESCE(sum(cycles_started), 0)
            )::int
            FROM authorizations
            WHERE member_ref = $1 AND policy_id = $3 AND case_id IS DISTINCT FROM $2
            """,
            inp.member_ref,
            inp.exclude_case_id,
            self._policy_id(inp.policy_ref),
        )
        return MemberHistory(prior_cycles=cycles)

    async def recorded_decision(
        self, decision_key: str, conn: Executor | None = None
    ) -> tuple[Decision, int | None] | None:
        """The decision a row holds, and the prior cycles it counted (None: no such row)."""
        row = await (conn or self._pool).fetchrow(
            "SELECT decision, prior_cycles FROM decisions WHERE decision_key = $1", decision_key
        )
        if row is None or row["decision"] is None:
            return None
        return Decision.model_validate(row["decision"]), row["prior_cycles"]

    @activity.defn
    async def record_decision(self, inp: RecordDecisionInput) -> RecordResult:
        """Append one decision (Section III; appeals and reviews alike), once per key."""
        return await self.record_decision_in(self._pool, inp)

    async def record_decision_in(self, conn: Executor, inp: RecordDecisionInput) -> RecordResult:
        """``record_decision`` on ``conn`` (the caller's transaction, or the pool).

        When ``reasons`` or ``trace`` are not given separately they are taken
        from the decision itself, else the trace from the row ``trace_from_key``
        names, so every row carries its reasons and the trace it rests on.
        """
        # JSON text from pydantic's own serializer, not a dict through json.dumps. The
        # trace (tens of kB) is kept once, in its own column: not again in the decision.
        d = inp.decision
        decision = d.model_dump_json(exclude={"trace"}) if d is not None else None
        if inp.reasons:
            reasons = json.dumps(inp.reasons)
        elif d is not None:
            reasons = _REASONS.dump_json(d.reasons).decode()
        else:
            reasons = "[]"
        if inp.trace is not None:
            trace: str | None = json.dumps(inp.trace)
        else:
            trace = d.trace.model_dump_json() if d is not None and d.trace is not None else None
        row_id = await conn.fetchval(
            _INSERT_DECISION,
            inp.decision_key,
            inp.case_id,
            inp.request_id,
            inp.kind,
            inp.determination,
            inp.automated,
            inp.reviewer_id,
            inp.rationale,
            decision,
            reasons,
            trace,
            inp.policy_id,
            inp.policy_version,
            inp.urgency,
            inp.line_of_business,
            inp.received_at,
            inp.decided_at,
            inp.trace_from_key,
            inp.actor,
            facts_of(inp.request) if inp.request is not None else None,
            inp.prior_cycles,
            inp.extends_review,
            inp.due_at,
            inp.granted.model_dump(mode="json") if inp.granted is not None else None,
        )
        log.info(
            "decision recorded" if row_id else "decision already recorded",
            case=inp.case_id,
            decision_key=inp.decision_key,
            kind=inp.kind,
            determination=inp.determination,
        )
        return RecordResult(inserted=row_id is not None)

    @activity.defn
    async def project_authorization(self, inp: AuthorizationProjection) -> RecordResult:
        """Keep ``authorizations`` current; a stale or repeated version changes nothing.
        The row names the case's policy and the version it runs under (``policy_ref``)."""
        async with self._pool.acquire() as conn, conn.transaction():
            written = await self.project_in(conn, inp)
        return RecordResult(inserted=written)

    async def project_in(self, conn: PoolConnectionProxy, inp: AuthorizationProjection) -> bool:
        """The projection, inside the caller's transaction (``CaseOutbox.write_effects``).
        The row names the case's policy and the version it runs under (``policy_ref``)."""
        policy = self._policy(inp.policy_ref)
        written = await conn.fetchval(
            _UPSERT_AUTHORIZATION,
            inp.case_id,
            inp.request_id,
            inp.member_ref,
            inp.version,
            inp.status,
            inp.track,
            inp.path,
            inp.line_of_business,
            inp.urgency,
            [p.model_dump(mode="json") for p in inp.periods],
            inp.renewals_used,
            inp.cycles_started,
            inp.units_authorized,
            inp.period_end,
            inp.escalated,
            inp.received_at,
            inp.updated_at,
            policy.id,
            policy.version,  # the version the case runs under now (migration 0009)
        )
        log.debug(
            "authorization projected" if written else "authorization projection not newer",
            case=inp.case_id,
            version=inp.version,
            status=inp.status,
        )
        return written is not None

    @activity.defn
    async def record_clinical_event(self, inp: ClinicalEventInput) -> RecordResult:
        """Record a clinical event once per case + event id (CONTRACT.md, Clinical event)."""
        event = inp.event
        row_id = await self._pool.fetchval(
            _INSERT_EVENT,
            inp.case_id,
            event.event_id,
            inp.member_ref,
            event.type,
            event.date,
            event.model_dump(mode="json", exclude_none=True),
            inp.received_at,
            inp.sent_by,
        )
        log.info(
            "clinical event recorded" if row_id else "clinical event already recorded",
            case=inp.case_id,
            event_id=event.event_id,
            type=event.type,
        )
        return RecordResult(inserted=row_id is not None)
