"""Listing cases through Temporal visibility, with a query built only from validated values.

``CaseFilter`` holds enums, booleans and dates — never free text — and
``visibility_query`` renders each through a fixed template, so no caller
input is ever interpolated into the query language as-is.

Period-end dates are bounded to what Temporal's datetime search attributes
hold: the Elasticsearch visibility store refuses a datetime before the Unix
epoch or after the last instant of a signed 64-bit nanosecond count
(1970-01-01 .. 2262-04-11T23:47:16Z), and a query value must be RFC 3339 (a
four-digit year). A day outside 1970-01-01 .. 2262-04-11 could never match a
case, so it is refused (422 naming the parameter) rather than sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema
from pydantic_core import PydanticCustomError
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from domain.case.transitions import CaseStatus
from domain.strict import IsoDate
from infra.temporal import (
    AUTH_ESCALATED,
    AUTH_PERIOD_END,
    AUTH_RENEWALS_USED,
    AUTH_RUN_OUT_UNTIL,
    AUTH_STATUS,
    AUTH_TRACK,
)

WORKFLOW_TYPE = "AuthorizationWorkflow"

#: Track ids come from the policy data (POLICY.md, Section I); any id of this shape is
#: accepted so a second policy needs no code change, and the shape keeps queries safe.
TRACK_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"

#: The days whose midnight (UTC) a Temporal datetime search attribute can hold.
FIRST_QUERY_DAY = date(1970, 1, 1)
LAST_QUERY_DAY = date(2262, 4, 11)
_DAY_RANGE = f"{FIRST_QUERY_DAY} to {LAST_QUERY_DAY}, the range of Temporal's datetime values"


def _queryable(day: date) -> date:
    if not FIRST_QUERY_DAY <= day <= LAST_QUERY_DAY:
        raise PydanticCustomError("date_range", f"Input should be a day from {_DAY_RANGE}")
    return day


_DAY = r"(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
#: The same range as a pattern, for the OpenAPI document (with ``format: date`` for the
#: calendar): 1970 .. 2261 whole, then 2262 up to April 11.
QUERY_DAY_PATTERN = (
    rf"^(?:(?:19[7-9][0-9]|2[01][0-9]{{2}}|22[0-5][0-9]|226[01])-{_DAY}"
    r"|2262-0[1-3]-(?:0[1-9]|[12][0-9]|3[01])|2262-04-(?:0[1-9]|1[01]))$"
)

QueryDay = Annotated[
    IsoDate,
    AfterValidator(_queryable),
    WithJsonSchema({"type": "string", "format": "date", "pattern": QUERY_DAY_PATTERN}),
]


class CaseFilter(BaseModel):
    """What ``GET /cases`` may filter on (all optional, combined with AND)."""

    status: CaseStatus | None = None
    track: str | None = Field(default=None, pattern=TRACK_PATTERN, examples=["relapsed_refractory"])
    escalated: bool | None = None
    period_end_before: QueryDay | None = Field(
        default=None,
        description=f"period ends before this day (YYYY-MM-DD, {_DAY_RANGE})",
    )
    period_end_after: QueryDay | None = Field(
        default=None,
        description=f"period ends on/after this day (YYYY-MM-DD, {_DAY_RANGE})",
    )
    limit: int = Field(default=100, ge=1, le=1000)


class CaseSummary(BaseModel):
    """One row of the payer queue, from the case's search attributes."""

    case_id: str
    status: str | None = None
    track: str | None = None
    period_end: date | None = None
    renewals_used: int | None = None
    escalated: bool = False
    # Claims run-out (POLICY.md): the last day the ended case takes late claims; a case
    # with it whose execution still runs is in run-out.
    run_out_until: date | None = None
    execution_status: str | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None


class CaseList(BaseModel):
    query: str
    cases: list[CaseSummary] = Field(default_factory=list)


def _quote(value: str) -> str:
    # Enum values only ever reach here, but keep the quoting total anyway.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _midnight_utc(day: date) -> str:
    # isoformat, not strftime: "%Y" drops the leading zeros of a year before 1000.
    return datetime.combine(day, time.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")


def visibility_query(f: CaseFilter) -> str:
    """The Temporal list filter for ``f`` (latest run of each case only)."""
    parts = [f"WorkflowType = {_quote(WORKFLOW_TYPE)}", "ExecutionStatus != 'ContinuedAsNew'"]
    if f.status is not None:
        parts.append(f"{AUTH_STATUS.name} = {_quote(f.status)}")
    if f.track is not None:
        parts.append(f"{AUTH_TRACK.name} = {_quote(f.track)}")
    if f.escalated is not None:
        parts.append(f"{AUTH_ESCALATED.name} = {'true' if f.escalated else 'false'}")
    if f.period_end_before is not None:
        parts.append(f"{AUTH_PERIOD_END.name} < {_quote(_midnight_utc(f.period_end_before))}")
    if f.period_end_after is not None:
        parts.append(f"{AUTH_PERIOD_END.name} >= {_quote(_midnight_utc(f.period_end_after))}")
    return " AND ".join(parts)


def summarize(execution: WorkflowExecution) -> CaseSummary:
    attrs = execution.typed_search_attributes
    period_end = attrs.get(AUTH_PERIOD_END)
    run_out = attrs.get(AUTH_RUN_OUT_UNTIL)
    status = execution.status
    return CaseSummary(
        case_id=execution.id,
        status=attrs.get(AUTH_STATUS),
        track=attrs.get(AUTH_TRACK),
        period_end=period_end.date() if period_end else None,
        renewals_used=attrs.get(AUTH_RENEWALS_USED),
        escalated=bool(attrs.get(AUTH_ESCALATED)),
        run_out_until=run_out.date() if run_out else None,
        execution_status=status.name.lower()
        if isinstance(status, WorkflowExecutionStatus)
        else None,
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


async def list_cases(client: Client, f: CaseFilter) -> CaseList:
    query = visibility_query(f)
    cases = [summarize(e) async for e in client.list_workflows(query, limit=f.limit)]
    return CaseList(query=query, cases=cases)
