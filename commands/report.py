"""`priorauth report metrics|access`: reports read from the PostgreSQL record.

``report access`` lists the access audit (README, Security): who read or
changed which case through the API, when, and with what outcome.

``report metrics``: the prior-authorization measures CMS asks payers to publish.

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
- **percent approved after an extended review**: of the requests approved or
  denied, those approved whose initial review's decision clock a reviewer
  extended (a decision row of kind ``review_extension`` for the ``initial``
  review, migration 0007). ``extended`` counts the requests whose review was
  extended, whatever their determination.
- **items and services requiring prior authorization**: every drug (HCPCS)
  whose policy version is in effect on ``--to``, from the policy files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.case_id import as_case_id
from domain.pa_items import PaItem, items_requiring_pa
from domain.policy import Policy
from domain.policy_registry import default_registry


def policies_served() -> list[Policy]:
    """Every policy version the registry serves (domain/policies/)."""
    return list(default_registry().policies)


#: Where the policies come from: the policy registry (tests replace this one function).
POLICIES: Callable[[], list[Policy]] = policies_served

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
), extended AS (
    SELECT case_id, min(decided_at) AS extended_at
    FROM decisions
    WHERE kind = 'review_extension' AND extends_review = 'initial'
    GROUP BY case_id
), last_appeal AS (
    SELECT DISTINCT ON (case_id) case_id, determination
    FROM decisions
    WHERE kind = 'appeal' AND determination IN ('approve', 'deny')
    ORDER BY case_id, decided_at DESC, id DESC
)
SELECT f.case_id, f.determination, f.urgency, f.received_at, f.decided_at,
       a.determination AS appeal_determination,
       (e.extended_at IS NOT NULL AND e.extended_at <= f.decided_at) AS extended
FROM final_initial f LEFT JOIN last_appeal a USING (case_id) LEFT JOIN extended e USING (case_id)
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
    extended: bool = False


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
    extended: int = 0
    approved_after_extension: int = 0
    percent_approved_after_extension: float | None = None


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def summarize(cases: list[DecidedCase]) -> Metrics:
    """The measures over ``cases`` (pure; see the module docstring for definitions)."""
    approved = sum(c.determination == "approve" for c in cases)
    denied = sum(c.determination == "deny" for c in cases)
    appealed = [c for c in cases if c.appeal_determination is not None]
    won = sum(c.appeal_determination == "approve" for c in appealed)
    hours = [(c.decided_at - c.received_at).total_seconds() / 3600 for c in cases]
    extended = [c for c in cases if c.extended]
    approved_extended = sum(c.determination == "approve" for c in extended)
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
        extended=len(extended),
        approved_after_extension=approved_extended,
        percent_approved_after_extension=_percent(approved_extended, approved + denied),
    )


def metrics_by_urgency(cases: list[DecidedCase]) -> dict[str, Metrics]:
    by = {u: summarize([c for c in cases if c.urgency == u]) for u in URGENCIES}
    by["all"] = summarize(cases)
    return by


async def fetch_cases(url: str, start: date, end: date) -> list[DecidedCase]:
    """Requests whose final initial determination falls on ``start`` .. ``end`` (UTC)."""
    from infra.postgres import create_pool

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


def _print_table(start: date, end: date, by: dict[str, Metrics], items: list[PaItem]) -> None:
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
        "extended",
        "approved after extension",
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
            str(m.extended),
            f"{m.approved_after_extension} ({_fmt(m.percent_approved_after_extension, '%')})",
            _fmt(m.average_hours_to_decision),
            _fmt(m.median_hours_to_decision),
        )
    console = Console(width=170)
    console.print(table)
    listed = Table(
        title=f"Items and services requiring prior authorization on {end}", title_justify="left"
    )
    for header in ("HCPCS", "description", "NDC products", "policy", "in effect from"):
        listed.add_column(header, overflow="fold")
    for item in items:
        listed.add_row(
            item.hcpcs,
            item.description,
            ", ".join(f"{p}-xx" for p in item.ndc_products),
            item.policy,
            item.effective_from,
        )
    console.print(listed)


def report_json(
    start: date, end: date, by: dict[str, Metrics], items: list[PaItem] | None = None
) -> dict[str, Any]:
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by_urgency": {u: asdict(m) for u, m in by.items()},
        "items_requiring_prior_authorization": [i.as_json() for i in items or []],
    }


def report_csv(by: dict[str, Metrics], items: list[PaItem]) -> str:
    """Long format for a spreadsheet: ``measure,urgency,value`` rows, then one
    ``item_requiring_prior_authorization`` row per drug (value: HCPCS; detail: policy)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["measure", "urgency", "value", "detail"])
    for urgency, m in by.items():
        for name, value in asdict(m).items():
            writer.writerow([name, urgency, "" if value is None else value, ""])
    for item in items:
        detail = f"{item.description} ({item.policy}, from {item.effective_from})"
        writer.writerow(["item_requiring_prior_authorization", "", item.hcpcs, detail])
    return out.getvalue()


async def _database_url() -> str:
    """The runtime URL, once the schema is current (migrated as the migration role)."""
    from infra.settings import Settings
    from worker import prepare_database

    return await prepare_database(Settings())


def metrics(args: argparse.Namespace) -> int:
    if args.to < args.from_:
        print("error: --to is before --from")
        return 2

    async def run() -> list[DecidedCase]:
        return await fetch_cases(await _database_url(), args.from_, args.to)

    cases = asyncio.run(run())
    by = metrics_by_urgency(cases)
    items = items_requiring_pa(POLICIES(), args.to)
    if args.json:
        print(json.dumps(report_json(args.from_, args.to, by, items), indent=2))
    elif args.csv:
        print(report_csv(by, items), end="")
    else:
        _print_table(args.from_, args.to, by, items)
    return 0


# --------------------------------------------------------------------------- access

_ACCESS = """
SELECT id, at, subject, roles, auth, action, method, route, case_id, case_ids, query,
       payloads, namespace, status, correlation_id
FROM access_audit
WHERE ($1::text IS NULL OR case_id = $1 OR case_ids @> ARRAY[$1::text])
  AND ($2::text IS NULL OR subject = $2)
  AND ($3::timestamptz IS NULL OR at >= $3)
ORDER BY at DESC, id DESC
LIMIT $4
"""


async def fetch_access(
    url: str,
    *,
    case_id: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Audit rows, oldest first: the ``limit`` latest that match every filter given.

    ``case_id`` matches the rows of that case and the searches that returned it.
    """
    from infra.postgres import create_pool

    pool = await create_pool(url, min_size=1, max_size=1)
    try:
        rows = await pool.fetch(_ACCESS, case_id, subject, since, limit)
    finally:
        await pool.close()
    return [
        {**dict(r), "roles": list(r["roles"]), "case_ids": r["case_ids"]} for r in reversed(rows)
    ]


def _access_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items() if k != "id"
    }


def _access_detail(row: dict[str, Any]) -> str:
    parts = []
    if row["case_ids"] is not None:
        parts.append(f"{len(row['case_ids'])} case(s)")
    if row["payloads"] is not None:
        parts.append(f"{row['payloads']} payload(s)")
    if row["namespace"]:
        parts.append(f"namespace {row['namespace']}")
    return ", ".join(parts)


def _print_access(rows: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for header in ("when (UTC)", "subject", "roles", "action", "route", "case", "status", "detail"):
        table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(
            r["at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            r["subject"] or "(no credential)",
            ",".join(r["roles"]),
            r["action"],
            f"{r['method']} {r['route']}",
            r["case_id"] or "",
            str(r["status"]),
            _access_detail(r),
        )
    Console(width=160).print(table)
    if not rows:
        print("no access recorded for these filters")


def access(args: argparse.Namespace) -> int:
    since = args.since
    if isinstance(since, date) and not isinstance(since, datetime):
        since = datetime.combine(since, time.min, UTC)
    case_id = as_case_id(args.case) if args.case else None

    async def run() -> list[dict[str, Any]]:
        return await fetch_access(
            await _database_url(),
            case_id=case_id,
            subject=args.subject,
            since=since,
            limit=args.limit,
        )

    rows = asyncio.run(run())
    if args.json:
        print(json.dumps([_access_json(r) for r in rows], indent=2))
    else:
        filters = [f"case {case_id}"] if case_id else []
        filters += [f"subject {args.subject}"] if args.subject else []
        filters += [f"since {since.isoformat()}"] if since else []
        _print_access(rows, "Access audit" + (f": {', '.join(filters)}" if filters else ""))
    return 0


def _since(text: str) -> date | datetime:
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or timestamp (2026-12-01, 2026-12-01T09:00:00Z): {text!r}"
        ) from exc


def iso_date(text: str) -> date:
    """An argparse type: a day as YYYY-MM-DD (also ``priorauth policy impact --since``)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        type=iso_date,
        required=True,
        metavar="DATE",
        help="first day (inclusive, UTC) of final initial determinations",
    )
    parser.add_argument(
        "--to", type=iso_date, required=True, metavar="DATE", help="last day (inclusive, UTC)"
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--csv", action="store_true", help="print CSV (measure,urgency,value,detail)")
    parser.set_defaults(func=metrics)

    parser = reports.add_parser(
        "access",
        help="The access audit: who read or changed which case through the API.",
        description="Rows of access_audit, oldest first (README, Security): the subject and "
        "roles of the caller, the route, the case, the status answered. --case also lists "
        "the searches that returned the case.",
    )
    parser.add_argument("--case", metavar="ID", help="a case id (pa-REQ-1001 or REQ-1001)")
    parser.add_argument("--subject", metavar="SUBJECT", help="one caller's subject, exactly")
    parser.add_argument(
        "--since", type=_since, metavar="WHEN", help="from this day or timestamp (UTC) on"
    )
    parser.add_argument(
        "--limit", type=int, default=1000, metavar="N", help="at most the N latest rows (1000)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=access)
