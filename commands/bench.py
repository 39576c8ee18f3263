"""`priorauth bench`: benchmarks on the real stack against the engine floor (issue #8).

Starts its own Temporal dev server (headless, in memory, free port), a fresh
PostgreSQL database (on DATABASE_URL's server, else an embedded one in a temp
dir), the production worker and an engine-floor worker as processes, and
prints one table: decisions, claims, the full lifecycle and open cases, each
with the floor's figure and the ratio. ``--json FILE`` writes the same figures.
The measuring itself lives in ``benchmarks/`` (``benchmarks.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark the real stack against the engine floor",
        description="Benchmark decisions, claims, a full lifecycle and open cases on the "
        "real stack (Temporal dev server, worker, PostgreSQL), each against the engine "
        "floor: a minimal workflow running as many no-op activities.",
    )
    p.add_argument("--json", metavar="FILE", type=Path, help="also write the figures as JSON")
    p.add_argument("--quick", action="store_true", help="a small smoke run (tens of cases)")
    p.add_argument("-n", "--decisions", type=int, help="requests to decide (default 500)")
    p.add_argument("-c", "--concurrency", type=int, help="requests in flight (default 50)")
    p.add_argument("--warmup", type=int, help="warm-up cases per worker, not counted (20)")
    p.add_argument("--claims", type=int, dest="claim_lines", help="claim lines (default 1000)")
    p.add_argument(
        "--claim-cases", type=int, help="live cases the claims go to (default: concurrency)"
    )
    p.add_argument("--open-cases", type=int, help="cases held open (default 5000)")
    p.add_argument(
        "--no-open-floor", action="store_true", help="skip the floor's open-cases memory figure"
    )
    p.add_argument(
        "--run-out-share",
        type=float,
        help="share of our open cases withdrawn into their claims run-out (default 0.5)",
    )
    p.add_argument(
        "--rounds", type=int, help="alternating ours/floor turns per comparison (default 2)"
    )
    p.add_argument("--lifecycle-runs", type=int, help="runs of the full scenario (default 1)")
    p.add_argument("--scenario", type=Path, help="the lifecycle scenario (default: the full R/R)")
    p.add_argument(
        "--only",
        metavar="SECTIONS",
        help="comma-separated subset of decisions,claims,lifecycle,open_cases",
    )
    p.add_argument("--keep-dir", type=Path, help="keep logs and data here (default: temp dir)")
    p.add_argument("--worker-log-level", default="INFO", help="LOG_LEVEL of the workers (INFO)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run_bench_command)


def _config(args: argparse.Namespace) -> Any:
    from benchmarks.run import SECTIONS, BenchConfig

    values: dict[str, Any] = {}
    for name in (
        "decisions",
        "concurrency",
        "warmup",
        "claim_lines",
        "claim_cases",
        "open_cases",
        "run_out_share",
        "lifecycle_runs",
        "rounds",
        "scenario",
        "keep_dir",
    ):
        value = getattr(args, name)
        if value is not None:
            values[name] = value
    if args.only:
        sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"unknown section(s) {', '.join(unknown)}; pick from {SECTIONS}")
        values["sections"] = sections
    values["open_floor"] = not args.no_open_floor
    values["worker_log_level"] = args.worker_log_level
    values["progress"] = not args.quiet
    return BenchConfig.quick_config(**values) if args.quick else BenchConfig(**values)


def run_bench_command(args: argparse.Namespace) -> int:
    _importable_project()
    from benchmarks.report import render_table

    try:
        config = _config(args)
    except ValueError as exc:
        print(f"priorauth bench: {exc}")
        return 2
    from benchmarks.run import run_bench
    from infra.logging import configure_logging

    configure_logging("WARNING", "console")  # the in-process simulation worker, as simulate does
    try:
        results = asyncio.run(_until_signalled(run_bench(config)))
    except RuntimeError as exc:
        print(f"priorauth bench: {exc}")
        return 1
    except asyncio.CancelledError:
        print("priorauth bench: stopped")
        return 130
    results["meta"]["command"] = "priorauth bench " + " ".join(sys.argv[2:])
    print(render_table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")
    return 0


async def _until_signalled(coro: Any) -> Any:
    """Run ``coro``; SIGTERM/SIGINT cancel it, so the stack it started is torn down."""
    import signal

    task = asyncio.ensure_future(coro)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    return await task


def _importable_project() -> None:
    """`benchmarks/` sits beside the installed packages: make it importable from anywhere."""
    from infra.settings import PROJECT_ROOT

    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
