"""The `priorauth` command: one entry point, one module per group of subcommands.

Each module in ``commands/`` exposes ``register(subparsers)``, which adds its
subcommands with ``set_defaults(func=...)``; ``func(args)`` returns the exit
code. Errors a user can cause are printed as plain lines, never tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "commands.dev",
    "commands.evaluate",
    "commands.simulate",
    "commands.cases",
    "commands.report",
    "commands.policy",
    "commands.timeline",
    "commands.bench",
    "commands.keys",
    "commands.migrate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="priorauth",
        description="Prior-authorization lifecycle on Temporal, for the drugs whose policies "
        "are in domain/policies/.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
