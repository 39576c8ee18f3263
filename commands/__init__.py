"""Subcommands of the `priorauth` CLI (see cli.py)."""
