"""One case as the API shows it: the workflow's own answers plus PostgreSQL's record.

Status, periods, cycles, units and the status history come from the
workflow's queries (the live truth); decisions and notices from PostgreSQL
(the durable audit). The timeline picture is built from the same reads.
"""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
from pydantic import BaseModel, Field

from api import case_records
from api.case_records import DecisionRecord, NoticeRecord
from api.timeline_svg import TimelineClaim, TimelineCycle, TimelineData, TimelinePeriod
from cases.client import CaseClient
from domain.case.state import StatusChange
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry
from workflows.messages import CaseStatusView, CyclesView, HistoryView, PeriodsView, UnitsView


class CaseView(BaseModel):
    """``GET /cases/{case_id}``."""

    case_id: str
    request_id: str
    status: str
    summary: CaseStatusView
    periods: PeriodsView
    cycles: CyclesView
    units: UnitsView
    status_changes: list[StatusChange] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)
    notifications: list[NoticeRecord] = Field(default_factory=list)


async def read_case(cases: CaseClient, pool: asyncpg.Pool, case_id: str) -> CaseView:
    """The whole case; 404 when there is no such workflow (asked first, alone).

    The queries go one after another (see ``CaseClient._query``): a case that
    has ended answers each by replaying its history on a worker, and queries
    sent at once to such a case can lose one of them.
    """
    status = await cases.status(case_id)

    async def views() -> tuple[PeriodsView, CyclesView, UnitsView, HistoryView]:
        return (
            await cases.periods(case_id),
            await cases.cycles(case_id),
            await cases.units(case_id),
            await cases.history(case_id),
        )

    (periods, cycles, units, history), decisions, notices = await asyncio.gather(
        views(), case_records.decisions(pool, case_id), case_records.notices(pool, case_id)
    )
    return CaseView(
        case_id=case_id,
        request_id=status.request_id,
        status=status.status,
        summary=status,
        periods=periods,
        cycles=cycles,
        units=units,
        status_changes=history.status_changes,
        decisions=decisions,
        notifications=notices,
    )


def _treatment_days(policy: Policy, track: str | None, cycle: int, cycle_days: int) -> int:
    """A cycle's treatment days by the policy's dosing rows (Section V), when no decision
    of the case holds its dosing plan; the whole cycle when the policy has no row."""
    for row in policy.dosing.tracks.get(track or "", []):
        if row.cycles.from_ <= cycle <= row.cycles.to:
            return min(row.treatment_days, cycle_days)
    return cycle_days


async def read_timeline(
    cases: CaseClient, pool: asyncpg.Pool, case_id: str, today: date, policies: PolicyRegistry
) -> TimelineData:
    """The picture's data under the case's policy (its ``policy_ref``; the drug, the unit
    limit and its window come from there)."""
    status = await cases.status(case_id)

    async def views() -> tuple[PeriodsView, CyclesView]:
        return (await cases.periods(case_id), await cases.cycles(case_id))

    (periods, cycles), claims, treatment = await asyncio.gather(
        views(), case_records.claims(pool, case_id), case_records.treatment_days(pool, case_id)
    )
    policy = policies.resolve(status.policy_ref)
    return TimelineData(
        case_id=case_id,
        drug=policy.policy.drug_name,
        max_units_per_window=policy.units.max_units_per_window,
        window_days=policy.units.window_days,
        status=status.status,
        track=status.track,
        as_of=today,
        periods=[
            TimelinePeriod(
                start=p.start, end=p.end, kind=p.kind, first_cycle=p.first_cycle, cycles=p.cycles
            )
            for p in periods.periods
        ],
        cycles=[
            TimelineCycle(
                cycle=c.cycle,
                start=c.start,
                cycle_days=c.cycle_days,
                treatment_days=min(treatment[c.cycle], c.cycle_days)
                if c.cycle in treatment
                else _treatment_days(policy, status.track, c.cycle, c.cycle_days),
                phase=c.phase,
            )
            for c in cycles.cycles
        ],
        claims=[
            TimelineClaim(
                claim_id=c.claim_id,
                line=c.line,
                date_of_service=c.date_of_service,
                units=c.units,
                allowed_units=c.allowed_units,
                status=c.status,
                reversal=c.reversal,
            )
            for c in claims
        ],
    )
