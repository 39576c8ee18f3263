"""Migration files are numbered 0001, 0002, ... with no number twice and none skipped:
branches that each added a "0005" are renumbered when merged (infra/migrations.py applies
them in name order, so two files of one number would apply in an accidental order)."""

from __future__ import annotations

from infra.migrations import migration_files


def test_migration_numbers_are_consecutive_and_unique():
    numbers = [path.name.split("_", 1)[0] for path in migration_files()]

    assert numbers == [f"{n:04d}" for n in range(1, len(numbers) + 1)]
    assert len(numbers) >= 8
