"""`priorauth report metrics`: the prior-authorization measures CMS asks payers to publish.

Read from the ``decisions`` table alone (PostgreSQL is the system of record),
for standard and expedited requests separately and together. Definitions:

- **request**: one case (``case_id``). It is in the report when its *final
  initial determination* was made between ``--from`` and ``--to`` (both
  inclusive, calendar days in UTC).
- **final initial determination**: the latest decision of kind ``initial``,
  ``info`` (after a pend) or ``review`` (by a clinical reviewer) whose
  determination is ``approve``, ``deny`` or ``not_applicable``. Pends and
  routings to review are not determinations, nor is an engine ``deny`` that
  is only a recommendation to a reviewer (its decision is not ``automated``:
  no adverse decision is automated, POLICY.md Section III); the reviewer's
  decision is. Appeals, renewals and extensions
  are not initial determinations.
- **percent approved / denied**: approved (denied) requests over requests
  approved or denied. ``not_applicable`` answers (Medicare Part B, policy
  Appendix 2) are counted apart and are in neither percentage.
- **percent approved after appeal**: of the requests with a decided appeal
  (a decision of kind ``appeal`` that approves or denies), those whose latest
  appeal decision approves.
- **time to decision**: ``decided_at - received_at`` of the final initial
  determination, in hours; average and median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

URGENCIES = ("standard", "expedited")
INITIAL_KINDS = ("initial", "info", "review")

_CASES = """
WITH final_initial AS (
    SELECT DISTINCT ON (case_id) case_id, determination, urgency, received_at, decided_at
    FROM decisions
    WHERE kind = ANY($3::text[]) AND determination IN ('approve', 'deny', 'not_applicable')
      AND NOT (kind IN ('initial', 'info') AND determination = 'deny'
               AND decision ->> 'automated' = 'false')
    ORDER BY case_id, decided_at DESC, id DESC
), last_appeal AS (
    SELECT DISTINCT ON (case_id) case_id, determination
    FROM decisions
    WHERE kind = 'appeal' AND determination IN ('approve', 'deny')
    ORDER BY case_id, decided_at DESC, id DESC
)
SELECT f.case_id, f.determination, f.urgency, f.received_at, f.decided_at,
       a.determination AS appeal_determination
FROM final_initial f LEFT JOIN last_appeal a USING (case_id)
WHERE f.decided_at >= $1 AND f.decided_at < $2
ORDER BY f.decided_at
"""


@dataclass(frozen=True)
class DecidedCase:
    case_id: str
    determination: str
    urgency: str
    received_at: datetime
    decided_at: datetime
    appeal_determination: str | None = None


@dataclass(frozen=True)
class Metrics:
    requests: int
    approved: int
    denied: int
    not_applicable: int
    percent_approved: float | None
    percent_denied: float | None
    appealed: int
    approved_after_appeal: int
    percent_approved_after_appeal: float | None
    average_hours_to_decision: float | None
    median_hours_to_decision: float | None


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def summarize(cases: list[DecidedCase]) -> Metrics:
    """The measures over ``cases`` (pure; see the module docstring for definitions)."""
    approved = sum(c.determination == "approve" for c in cases)
    denied = sum(c.determination == "deny" for c in cases)
    appealed = [c for c in cases if c.appeal_determination is not None]
    won = sum(c.appeal_determination == "approve" for c in appealed)
    hours = [(c.decided_at - c.received_at).total_seconds() / 3600 for c in cases]
    return Metrics(
        requests=len(cases),
        approved=approved,
        denied=denied,
        not_applicable=sum(c.determination == "not_applicable" for c in cases),
        percent_approved=_percent(approved, approved + denied),
        percent_denied=_percent(denied, approved + denied),
        appealed=len(appealed),
        approved_after_appeal=won,
        percent_approved_after_appeal=_percent(won, len(appealed)),
        average_hours_to_decision=round(statistics.fmean(hours), 2) if hours else None,
        median_hours_to_decision=round(statistics.median(hours), 2) if hours else None,
    )


def metrics_by_urgency(cases: list[DecidedCase]) -> dict[str, Metrics]:
    by = {u: summarize([c for c in cases if c.urgency == u]) for u in URGENCIES}
    by["all"] = summarize(cases)
    return by


async def fetch_cases(url: str, start: date, end: date) -> list[DecidedCase]:
    """Requests whose final initial determination falls on ``start`` .. ``end`` (UTC)."""
    from infra.migrations import apply_migrations
    from infra.postgres import create_pool

    await apply_migrations(url)
    pool = await create_pool(url, min_size=1, max_size=1)
    try:
        rows = await pool.fetch(
            _CASES,
            datetime.combine(start, time.min, UTC),
            datetime.combine(end + timedelta(days=1), time.min, UTC),
            list(INITIAL_KINDS),
        )
    finally:
        await pool.close()
    return [DecidedCase(**dict(r)) for r in rows]


def _fmt(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:g}{suffix}"


def _print_table(start: date, end: date, by: dict[str, Metrics]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Prior-authorization metrics, {start} to {end}")
    for header in (
        "urgency",
        "requests",
        "approved",
        "denied",
        "not applicable",
        "appealed",
        "approved after appeal",
        "avg hours",
        "median hours",
    ):
        table.add_column(header, justify="left" if header == "urgency" else "right")
    for urgency, m in by.items():
        table.add_row(
            urgency,
            str(m.requests),
            f"{m.approved} ({_fmt(m.percent_approved, '%')})",
            f"{m.denied} ({_fmt(m.percent_denied, '%')})",
            str(m.not_applicable),
            str(m.appealed),
            f"{m.approved_after_appeal} ({_fmt(m.percent_approved_after_appeal, '%')})",
            _fmt(m.average_hours_to_decision),
            _fmt(m.median_hours_to_decision),
        )
    Console(width=140).print(table)


def report_json(start: date, end: date, by: dict[str, Metrics]) -> dict[str, Any]:
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by_urgency": {u: asdict(m) for u, m in by.items()},
    }


def _database_url() -> str:
    from infra.postgres import database_url
    from infra.settings import Settings

    settings = Settings()
    return database_url(settings.database_url, settings.data_dir)


def metrics(args: argparse.Namespace) -> int:
    if args.to < args.from_:
        print("error: --to is before --from")
        return 2
    cases = asyncio.run(fetch_cases(_database_url(), args.from_, args.to))
    by = metrics_by_urgency(cases)
    if args.json:
        print(json.dumps(report_json(args.from_, args.to, by), indent=2))
    else:
        _print_table(args.from_, args.to, by)
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="Reports read from the PostgreSQL record.")
    reports = report.add_subparsers(dest="report", metavar="REPORT")
    parser = reports.add_parser(
        "metrics",
        help="CMS prior-authorization measures, by urgency.",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="from_",
        type=_date,
        required=True,
        metavar="DATE",
        help="first day (inclusive, UTC) of final initial determinations",
    )
    parser.add_argument(
        "--to", type=_date, required=True, metavar="DATE", help="last day (inclusive, UTC)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=metrics)
