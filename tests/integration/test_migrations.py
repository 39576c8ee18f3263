"""Migrations against a real PostgreSQL: from empty, re-run, concurrent starts, safety."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

import asyncpg
import pytest

from infra.migrations import MIGRATIONS_DIR, MigrationError, apply_migrations, migration_files

TABLES = {"authorizations", "decisions", "claim_lines", "clinical_events", "notifications"}


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


async def _recorded(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT name, checksum FROM schema_migrations")
    finally:
        await conn.close()
    return {r["name"]: r["checksum"] for r in rows}


def _copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


async def test_migrations_from_empty_create_every_table_and_record_each_file(empty_db_url):
    names = [p.name for p in migration_files()]

    applied = await apply_migrations(empty_db_url)

    assert applied == names
    assert TABLES | {"schema_migrations"} <= await _tables(empty_db_url)
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in migration_files()}
    assert await _recorded(empty_db_url) == expected


async def test_rerun_migrations_apply_nothing(empty_db_url):
    await apply_migrations(empty_db_url)

    assert await apply_migrations(empty_db_url) == []
    assert len(await _recorded(empty_db_url)) == len(migration_files())


async def test_two_processes_starting_at_once_apply_each_file_once(empty_db_url):
    first, second = await asyncio.gather(
        apply_migrations(empty_db_url), apply_migrations(empty_db_url)
    )

    assert sorted(first + second) == [p.name for p in migration_files()]
    assert [] in (first, second)


async def test_migrations_apply_in_name_order_after_the_ones_already_applied(
    empty_db_url, tmp_path
):
    directory = _copy_migrations(tmp_path)
    await apply_migrations(empty_db_url, directory)
    (directory / "9998_a.sql").write_text("CREATE TABLE later_a (id int);")
    (directory / "9999_b.sql").write_text("ALTER TABLE later_a ADD COLUMN b int;")

    assert await apply_migrations(empty_db_url, directory) == ["9998_a.sql", "9999_b.sql"]
    assert "later_a" in await _tables(empty_db_url)


async def test_a_changed_applied_migration_is_refused(empty_db_url, tmp_path):
    directory = _copy_migrations(tmp_path)
    await apply_migrations(empty_db_url, directory)
    first = migration_files(directory)[0]
    first.write_text(first.read_text() + "\n-- edited\n")

    with pytest.raises(MigrationError, match="changed after it was applied"):
        await apply_migrations(empty_db_url, directory)


async def test_a_failing_migration_leaves_no_trace(empty_db_url, tmp_path):
    directory = _copy_migrations(tmp_path)
    (directory / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;"
    )

    with pytest.raises(MigrationError, match=r"9999_broken\.sql"):
        await apply_migrations(empty_db_url, directory)

    assert "half_done" not in await _tables(empty_db_url)
    assert "9999_broken.sql" not in await _recorded(empty_db_url)
    assert await _tables(empty_db_url) >= TABLES
