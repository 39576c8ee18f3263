"""`priorauth policy impact DRAFT.yaml`: whose outcome a draft policy would change.

Reads PostgreSQL only (no Temporal call): for every case of the draft's drug
that is open (its ``authorizations.status`` is not one of
``domain.policy_impact.CLOSED_STATUSES``), and with ``--since DATE`` every
closed case received on or after that day too, the latest facts recorded
with its decisions (``decisions.request``, the facts without the member's
identity, ``domain.decision_facts``, and ``prior_cycles``, migration 0007;
cases decided only before it have none and are counted as skipped).
Rows are streamed with a server-side cursor and each case is re-decided under
the policy in force and under the draft (``domain.policy_impact``).

Output: counts by kind of change and by the node that made the difference,
then the changed cases by case id (never a name): a table (``--limit`` rows;
a progress bar on stderr for long runs), ``--json`` or ``--csv``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import TYPE_CHECKING, Any

from domain.decision_facts import request_of
from domain.policy import Policy
from domain.policy_impact import (
    CLOSED_STATUSES,
    KINDS,
    CaseImpact,
    ImpactAnalysis,
    ImpactSummary,
    Outcome,
)
from domain.policy_registry import UnknownDrug, default_registry
from domain.policy_versions import NoVersionInEffect

if TYPE_CHECKING:
    import asyncpg

_WHERE = """
FROM authorizations a
WHERE (a.status <> ALL($1::text[]) OR ($2::timestamptz IS NOT NULL AND a.received_at >= $2))
"""

_COUNT = "SELECT count(*) " + _WHERE

# The latest row with facts of each selected case; request as text (parsed by pydantic).
_LATEST_FACTS = """
SELECT DISTINCT ON (d.case_id) d.case_id, d.request::text AS request, d.prior_cycles
FROM decisions d
JOIN authorizations a ON a.case_id = d.case_id
WHERE d.request IS NOT NULL
  AND d.request -> 'service' ->> 'hcpcs' = ANY($3::text[])
  AND (a.status <> ALL($1::text[]) OR ($2::timestamptz IS NOT NULL AND a.received_at >= $2))
ORDER BY d.case_id, d.id DESC
"""

CSV_COLUMNS = (
    "case_id",
    "changes",
    "node",
    "node_ref",
    "criteria",
    *(
        f"{side}_{name}"
        for name in (
            "determination",
            "track",
            "path",
            "period_days",
            "cycles",
            "first_cycle",
            "units",
            "renewable",
            "max_renewals",
        )
        for side in ("before", "after")
    ),
)


@dataclass
class ImpactRun:
    """The outcome of one run: what was compared, the counts, the changed cases, timings."""

    current: Policy
    draft: Policy
    since: date | None
    summary: ImpactSummary = field(default_factory=ImpactSummary)
    cases: list[CaseImpact] = field(default_factory=list)
    selected: int = 0
    seconds: dict[str, float | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "current": f"{self.current.id}@{self.current.version}",
            "draft": f"{self.draft.id}@{self.draft.version}",
            "since": self.since.isoformat() if self.since else None,
            "summary": {**self.summary.as_json(), "without_facts": self.selected_without_facts},
            "cases": [c.as_json() for c in self.cases],
            "timing": self.seconds,
        }

    @property
    def selected_without_facts(self) -> int:
        return max(self.selected - self.summary.cases, 0)


def policy_in_force(draft: Policy, today: date) -> Policy:
    """The policy in force today for the draft's drug: the registry's version in effect."""
    return default_registry().for_drug(draft.billing.hcpcs[0], today)


async def _rows(
    url: str, since: datetime | None, drugs: list[str], batch: int
) -> AsyncIterator[asyncpg.Record]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(readonly=True):
            async for row in conn.cursor(
                _LATEST_FACTS, list(CLOSED_STATUSES), since, drugs, prefetch=batch
            ):
                yield row
    finally:
        await conn.close()


async def count_selected(url: str, since: datetime | None) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        count: int = await conn.fetchval(_COUNT, list(CLOSED_STATUSES), since)
        return count
    finally:
        await conn.close()


async def run_impact(
    url: str,
    current: Policy,
    draft: Policy,
    *,
    since: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 2000,
) -> ImpactRun:
    """Stream the selected cases' latest facts and compare each under both policies."""
    began, cpu_began = time.perf_counter(), time.process_time()
    since_at = datetime.combine(since, clock.min, UTC) if since else None
    run = ImpactRun(current, draft, since)
    run.selected = await count_selected(url, since_at)
    analysis = ImpactAnalysis(current, draft)
    loads = json.loads
    compare = analysis.compare
    parse_s = evaluate_s = 0.0
    perf = time.process_time  # CPU time of this process: the rate on one core
    done = 0
    async for row in _rows(url, since_at, list(draft.billing.hcpcs), batch):
        t0 = perf()
        request = request_of(loads(row["request"]))
        t1 = perf()
        impact = compare(row["case_id"], request, row["prior_cycles"] or 0)
        t2 = perf()
        parse_s += t1 - t0
        evaluate_s += t2 - t1
        run.summary.add(impact)
        if impact is not None:
            run.cases.append(impact)
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(done, run.selected)
    if progress is not None:
        progress(done, done)
    total, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    run.cases.sort(key=lambda c: c.case_id)
    n = run.summary.cases
    run.seconds = {
        "total": round(total, 3),
        "cpu": round(cpu, 3),
        "parse_cpu": round(parse_s, 3),
        "evaluate_cpu": round(evaluate_s, 3),
        "cases_evaluated_per_second": round(n / evaluate_s) if evaluate_s else None,
        "cases_per_second_overall": round(n / total) if total else None,
    }
    return run


def csv_row(impact: CaseImpact) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_id": impact.case_id,
        "changes": ";".join(impact.kinds),
        "node": impact.node or "",
        "node_ref": impact.node_ref or "",
        "criteria": ";".join(impact.criteria),
    }
    for side, outcome in (("before", impact.before), ("after", impact.after)):
        for name, value in outcome.as_json().items():
            row[f"{side}_{name}"] = "" if value is None else value
    return row


def _terms(o: Outcome) -> str:
    if o.track is None or o.first_cycle is None or o.cycles is None:
        return o.determination
    renew = f", {o.max_renewals} renewal(s)" if o.renewable else ", not renewable"
    cycles = f"cycle {o.first_cycle}" if o.cycles == 1 else (
        f"cycles {o.first_cycle}-{o.first_cycle + o.cycles - 1}"
    )  # fmt: skip
    return f"{o.determination} {o.track}: {o.days} d, {cycles}, {o.units} u{renew}"


def _print(run: ImpactRun, limit: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    s = run.summary
    console.print(
        f"[bold]{escape(run.as_json()['draft'])}[/] against [bold]"
        f"{escape(run.as_json()['current'])}[/]: {s.cases} case(s) re-decided, "
        f"[bold]{s.changed}[/] would change"
        + (
            f" ({run.selected_without_facts} selected case(s) have no recorded facts)"
            if run.selected_without_facts
            else ""
        )
    )
    counts = Table(title="Changes by kind", title_justify="left")
    counts.add_column("kind")
    counts.add_column("cases", justify="right")
    for kind, n in run.summary.as_json()["by_kind"].items():
        if n:
            counts.add_row(kind, str(n))
    by_node = Table(title="By the node that made the difference", title_justify="left")
    by_node.add_column("node")
    by_node.add_column("cases", justify="right")
    for node, n in run.summary.as_json()["by_node"].items():
        by_node.add_row(escape(node), str(n))
    if s.changed:
        console.print(counts)
        console.print(by_node)
        table = Table(title="Cases", title_justify="left")
        for header in ("case", "changes", "before", "after", "node", "criteria"):
            table.add_column(header, overflow="fold")
        for c in run.cases[:limit]:
            table.add_row(
                escape(c.case_id),
                ", ".join(c.kinds),
                escape(_terms(c.before)),
                escape(_terms(c.after)),
                escape(f"{c.node} ({c.node_ref})" if c.node else ""),
                escape(", ".join(c.criteria)),
            )
        console.print(table)
        if len(run.cases) > limit:
            console.print(f"… {len(run.cases) - limit} more: --csv or --json lists them all")
    t = run.seconds
    console.print(
        f"[dim]{t['total']} s; evaluation {t['cases_evaluated_per_second']} cases/s[/]",
        highlight=False,
    )


async def _database_url() -> str:
    from commands.report import _database_url as url

    return await url()


def impact(args: argparse.Namespace) -> int:
    from commands.policy import PolicyFileError, read_policy

    try:
        draft = read_policy(args.draft)
        if args.current:
            current = read_policy(args.current)
        else:
            current = policy_in_force(draft, datetime.now(UTC).date())
    except (PolicyFileError, NoVersionInEffect, UnknownDrug) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if set(draft.billing.hcpcs) != set(current.billing.hcpcs) and args.current:
        print("error: the draft and --current are policies of different drugs", file=sys.stderr)
        return 2

    async def go(progress: Callable[[int, int], None] | None) -> ImpactRun:
        url = await _database_url()
        return await run_impact(url, current, draft, since=args.since, progress=progress)

    if args.json or args.csv or args.no_progress or not sys.stderr.isatty():
        run = asyncio.run(go(None))
    else:
        run = _with_progress(go)
    if args.json:
        print(json.dumps(run.as_json(), indent=2))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for c in run.cases:
            writer.writerow(csv_row(c))
    else:
        _print(run, args.limit)
    return 0


def _with_progress(go: Callable[..., Coroutine[Any, Any, ImpactRun]]) -> ImpactRun:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "re-deciding",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("cases", total=None)
        return asyncio.run(go(lambda done, total: bar.update(task, completed=done, total=total)))


__all__ = ["CSV_COLUMNS", "KINDS", "ImpactRun", "csv_row", "impact", "run_impact"]
