"""`priorauth simulate FILE|-`: a scenario through the real workflow, in seconds.

CONTRACT.md, "Scenario". A time-skipping Temporal test server and a
PostgreSQL (a scratch database on DATABASE_URL, else an embedded server in a
temporary directory) are started for the run; a worker with the real
activities serves a task queue of its own. The case starts with its business
clock anchored at the server's time (day 0 = the request's ``received_at``);
each event is sent at its day; at ``until_day`` the case is queried and the
result JSON is printed. A refused update never stops the run: the workflow
records it (status changes, notifications) and the output lists it under
``refusals`` (a clinical event goes as the ``record_clinical_event`` update, so
an event dated outside the case's days or a bad retraction is listed there).
A bad scenario file prints one line per bad field and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from simulation.runner import SimulationStalled, scenario_problems, simulate

# --------------------------------------------------------------------------- CLI


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "simulate",
        help="run a scenario through the real workflow on a time-skipping Temporal server",
        description=(__doc__ or "").split("\n\n")[1],
    )
    parser.add_argument("file", help="scenario JSON file (CONTRACT.md, Scenario), or - for stdin")
    parser.add_argument(
        "--stats",
        action="store_true",
        help="also print the wall time and the history size of each run to stderr",
    )
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    source = "stdin" if args.file == "-" else args.file
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    except OSError as err:
        print(f"{source}: cannot read: {err.strerror or err}", file=sys.stderr)
        return 2
    scenario, problems = scenario_problems(text, source)
    if scenario is None:
        for line in problems:
            print(line, file=sys.stderr)
        return 2
    from infra.settings import get_settings

    settings = get_settings()
    _log_to_stderr()
    try:
        run = asyncio.run(simulate(scenario, settings))
    except SimulationStalled as err:
        print(f"{source}: {err}", file=sys.stderr)
        return 1
    print(run.result.model_dump_json(indent=2))
    if args.stats:
        print(
            f"simulated {scenario.until_day} days in {run.wall_seconds:.1f} s wall time; "
            f"history events per run: {run.history_events}",
            file=sys.stderr,
        )
    return 0


def _log_to_stderr() -> None:
    """Only the result JSON on stdout: warnings (ours and Temporal core's) go to stderr."""
    import logging

    import structlog
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    from infra.logging import configure_logging

    configure_logging("WARNING", "console")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    core = LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    Runtime.set_default(
        Runtime(telemetry=TelemetryConfig(logging=core)), error_if_already_set=False
    )
