"""`priorauth timeline CASE -o FILE.svg`: the case's timeline picture, from the API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.client import ApiClient
from commands.cases import EXIT_OK, EXIT_USAGE, UsageError, _run


def _timeline(args: argparse.Namespace, api: ApiClient) -> int:
    svg = api.timeline_svg(args.case)
    if args.output in (None, "-"):
        sys.stdout.write(svg)
        return EXIT_OK
    out = Path(args.output)
    try:
        out.write_text(svg, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``timeline``."""
    p = sub.add_parser(
        "timeline",
        help="draw a case's periods, cycles, claims and units as SVG",
        description="Periods, cycles (treatment and rest days), claims, and units per rolling "
        "window of the case's policy.",
    )
    p.add_argument("case", metavar="CASE", help="case id (pa-REQ-1) or request id")
    p.add_argument("-o", "--output", default=None, metavar="FILE.svg", help="default: stdout")
    p.add_argument("--api-url", default=None, help="default: PRIORAUTH_API_URL")
    p.add_argument("--token", default=None, help="default: PRIORAUTH_TOKEN")
    p.set_defaults(func=_run("timeline", _timeline))


__all__ = ["EXIT_USAGE", "register"]
