"""The FHIR door's one way into the cases: every call the FHIR routes make on a case
goes through here, and here only.

It calls what the JSON routes call, through the same typed case client
(``cases.client.CaseClient``, one path for the API, the workbench and FHIR):
``api.intake.submit`` (POST /cases: update-with-start, the first decision),
the client's ``status`` / ``periods`` queries and ``provide_info`` / ``withdraw``
updates (GET /cases/{id}, /info, /withdraw), ``api.case_records`` (the decisions
audit), plus one read of the ``authorizations`` projection for CRD, and the FHIR
door's own rows: ``fhir_claims`` (what a later notification echoes of a PAS
Claim) and ``fhir_subscriptions``. The client's errors come out as the API's
(``api.errors.case_error``), so the FHIR routes answer them as OperationOutcomes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import date, datetime
from typing import Any, TypeVar

import asyncpg

from api import case_records, intake
from api.errors import case_error
from api.intake import SubmitResult
from cases.client import CaseClient
from cases.errors import CaseError
from domain import policy_registry
from domain.case_id import case_id as case_id_of
from domain.policy import Policy
from domain.request import PARequest
from interop.fhir.claim_response import CaseAnswer
from workflows.messages import (
    ProvideInfoInput,
    ProvideInfoResult,
    WithdrawInput,
    WithdrawResult,
)

T = TypeVar("T")


async def _answer(call: Awaitable[T]) -> T:
    """The case client's answer; its errors as the API's (``ApiError``)."""
    try:
        return await call
    except CaseError as exc:
        raise case_error(exc) from None


def case_id_for(identifier: str) -> str:
    return case_id_of(identifier)


async def submit(cases: CaseClient, request: PARequest, subject: str) -> SubmitResult:
    return await _answer(intake.submit(cases, request, submitted_by=subject))


async def case_answer(cases: CaseClient, pool: asyncpg.Pool, case_id: str) -> CaseAnswer:
    """The case now: its status, its current (or last) period, its latest decision's reasons."""
    status = await _answer(cases.status(case_id))
    periods = await _answer(cases.periods(case_id))
    decisions = await case_records.decisions(pool, case_id)
    period = None
    if periods.periods:
        by_index = {p.index: p for p in periods.periods}
        period = by_index.get(periods.current) if periods.current is not None else None
        period = period or periods.periods[-1]
    last = decisions[-1] if decisions else None
    reasons = list(last.reasons) if last is not None else []
    reason = status.last_reason
    if status.status == "not_applicable":
        reason = f"{reason} {await _mac(pool, case_id)}".strip()
    if last is not None and last.rationale and last.determination == "deny":
        reasons.append({"text": "reviewer's rationale on file", "policy_ref": ""})
    return CaseAnswer(
        case_id=case_id,
        status=status.status,
        determination=status.determination,
        missing_facts=list(status.missing_facts),
        period_start=period.start if period else None,
        period_end=period.end if period else None,
        authorized_units=period.authorized_units if period else None,
        reason=reason,
        reasons=reasons,
        appeal_deadline=status.appeal_deadline,
        track=status.track,
        usual_units=_usual_units(
            policy_registry.default_registry().resolve(status.policy_ref),
            status.track,
            period.kind if period else "initial",
        ),
    )


async def _mac(pool: asyncpg.Pool, case_id: str) -> str:
    """Appendix 2: the Medicare Administrative Contractor the decision named, as a sentence."""
    row = await pool.fetchrow(
        """
        SELECT decision->'medicare' AS mac FROM decisions
        WHERE case_id = $1 AND decision->'medicare' IS NOT NULL
        ORDER BY decided_at DESC, id DESC LIMIT 1
        """,
        case_id,
    )
    if row is None or row["mac"] is None:
        return ""

    mac = json.loads(row["mac"]) if isinstance(row["mac"], str) else row["mac"]
    return (
        f"Contact the Medicare Administrative Contractor: {mac.get('contractor')} "
        f"(jurisdiction {mac.get('jurisdiction')})."
    )


def _usual_units(policy: Policy, track: str | None, kind: str) -> int | None:
    """What a period of the track grants when nothing cuts it (Sections I, II), under the
    case's own policy."""
    spec = policy.tracks.get(track or "")
    if spec is None:
        return None
    cycles = spec.initial_cycles
    if kind == "renewal" and spec.renewal is not None:
        cycles = spec.renewal.cycles_per_renewal
    return cycles * policy.units.units_per_cycle


async def provide_info(
    cases: CaseClient, case_id: str, facts: dict[str, Any], subject: str
) -> ProvideInfoResult:
    arg = ProvideInfoInput(facts=facts, requested_by=subject)
    return await _answer(cases.provide_info(case_id, arg))


async def withdraw(cases: CaseClient, case_id: str, reason: str, subject: str) -> WithdrawResult:
    arg = WithdrawInput(reason=reason, requested_by=subject)
    return await _answer(cases.withdraw(case_id, arg))


async def active_authorization(
    pool: asyncpg.Pool, member_ref: str, on: date, policy_id: str
) -> str | None:
    """The case id of the member's authorization for the drug of ``policy_id`` (the
    authorizations are keyed by member and policy, migration 0005) whose approved period
    covers ``on``."""
    rows = await pool.fetch(
        """
        SELECT case_id, periods FROM authorizations
        WHERE member_ref = $1 AND policy_id = $2 AND status IN ('active', 'renewal_window')
        ORDER BY updated_at DESC
        """,
        member_ref,
        policy_id,
    )

    for row in rows:
        periods = row["periods"]
        periods = json.loads(periods) if isinstance(periods, str) else periods or []
        for p in periods:
            start, end = p.get("start"), p.get("end")
            if start and end and date.fromisoformat(start) <= on <= date.fromisoformat(end):
                case_id: str = row["case_id"]
                return case_id
    return None


async def remember_claim(
    pool: asyncpg.Pool, case_id: str, subject: str, orgs: list[str], context: dict[str, Any]
) -> None:
    """Keep what a subscription notification needs of the case's PAS Claim (first wins)."""
    await pool.execute(
        """
        INSERT INTO fhir_claims (case_id, submitted_by, org_identifiers, context)
        VALUES ($1, $2, $3, $4) ON CONFLICT (case_id) DO NOTHING
        """,
        case_id,
        subject,
        orgs,
        context,
    )


async def create_subscription(
    pool: asyncpg.Pool,
    owner: str,
    sub_id: str,
    orgs: list[str],
    endpoint: str,
    headers: list[str],
    ends_at: datetime | None,
    resource: dict[str, Any],
) -> None:
    await pool.execute(
        """
        INSERT INTO fhir_subscriptions
            (id, owner, org_identifiers, endpoint, headers, ends_at, resource)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        sub_id,
        owner,
        orgs,
        endpoint,
        headers,
        ends_at,
        resource,
    )


async def subscription(pool: asyncpg.Pool, owner: str, sub_id: str) -> dict[str, Any] | None:
    """The owner's subscription as a resource (status as it is now), or None."""
    row = await pool.fetchrow(
        "SELECT resource, status FROM fhir_subscriptions WHERE id = $1 AND owner = $2",
        sub_id,
        owner,
    )
    if row is None:
        return None
    resource = row["resource"]
    resource = json.loads(resource) if isinstance(resource, str) else dict(resource)
    resource["status"] = row["status"]
    return resource


async def turn_off_subscription(pool: asyncpg.Pool, owner: str, sub_id: str) -> bool:
    """DELETE: the subscription is off (kept, never removed); False when not the owner's."""
    done = await pool.fetchval(
        """
        UPDATE fhir_subscriptions SET status = 'off', updated_at = now()
        WHERE id = $1 AND owner = $2 RETURNING id
        """,
        sub_id,
        owner,
    )
    return done is not None
