"""`priorauth` subcommands: placeholder until implemented."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands (none yet)."""
