"""`priorauth migrate`: apply the schema and the runtime role's grants, then exit.

Run as the migration role (``MIGRATION_DATABASE_URL``, default
``DATABASE_URL``): the one process that needs to own the schema. Workers and
the API then connect as the runtime role (``DATABASE_URL``) and only check
that nothing is pending (README, Security). docker-compose runs it as a
one-shot job before them.
"""

from __future__ import annotations

import argparse
import asyncio


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "migrate",
        help="apply migrations and the runtime role's grants (as the migration role)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=migrate)


def migrate(args: argparse.Namespace) -> int:
    from infra.migrations import MigrationError
    from infra.settings import get_settings
    from worker import prepare_database

    settings = get_settings()
    try:
        asyncio.run(prepare_database(settings))
    except (MigrationError, OSError) as exc:
        print(f"priorauth migrate: {exc}")
        return 1
    print(f"priorauth migrate: schema current; runtime role {settings.database_runtime_role}")
    return 0
