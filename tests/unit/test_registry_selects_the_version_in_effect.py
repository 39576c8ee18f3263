"""The registry and the policy versions share one selection rule (issue #17 wired into
issue #14's registry): ``PolicyRegistry.for_drug(hcpcs, day)`` is ``select_version``, a
directory whose versions of a drug overlap or leave a gap is refused at load, and a new
case (the starter, its clocks) takes the version in effect on its day of receipt."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from cases.config import case_config_for
from domain.policy_registry import PolicyRegistry
from domain.policy_versions import EffectiveRangeError, NoVersionInEffect, select_version
from domain.request import PARequest
from examples import example_requests
from infra.settings import Settings
from tests.synthetic_policy import SYNTHETIC_DIR, TESTOMAB, as_testomab, serving


def _version(directory: Path, source: Path, version: str, **policy: object) -> None:
    data = yaml.safe_load(source.read_text())
    data["policy"].update({"version": version, **policy})
    data["case_defaults"]["pend_deadline_days"] = 3  # tells the versions' clocks apart
    (directory / f"testomab_{version}.yaml").write_text(yaml.safe_dump(data))


@pytest.fixture
def source() -> Path:
    return next(SYNTHETIC_DIR.glob("*.yaml"))


def test_for_drug_on_a_day_is_the_version_select_version_picks(tmp_path, source):
    shutil.copy(source, tmp_path / source.name)  # 2026-01-01, open-ended
    _version(tmp_path, source, "2027-01-01", effective_date=date(2027, 1, 1))
    registry = PolicyRegistry.from_directory(tmp_path)

    for day in (date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1), date(2030, 5, 5)):
        chosen = registry.for_drug(TESTOMAB, day)
        assert chosen is select_version(registry.policies, TESTOMAB, day)
    assert registry.for_drug(TESTOMAB, date(2026, 12, 31)).version == "2026-01-01"
    assert registry.for_drug(TESTOMAB, date(2027, 1, 1)).version == "2027-01-01"
    # Received before the first version on file: decided under that first version.
    assert registry.for_drug(TESTOMAB, date(2025, 12, 31)).version == "2026-01-01"


def test_a_day_after_a_last_versions_stated_end_has_no_version(tmp_path, source):
    _version(
        tmp_path,
        source,
        "2026-01-01",
        effective_date=date(2026, 1, 1),
        effective_to=date(2026, 12, 31),
    )
    registry = PolicyRegistry.from_directory(tmp_path)

    assert registry.for_drug(TESTOMAB, date(2026, 12, 31)).version == "2026-01-01"
    with pytest.raises(NoVersionInEffect):
        registry.for_drug(TESTOMAB, date(2027, 1, 1))


def test_a_directory_with_a_gap_between_versions_is_refused(tmp_path, source):
    _version(
        tmp_path,
        source,
        "2026-01-01",
        effective_date=date(2026, 1, 1),
        effective_to=date(2026, 6, 30),
    )
    _version(tmp_path, source, "2026-08-01", effective_date=date(2026, 8, 1))

    with pytest.raises(EffectiveRangeError, match="gap"):
        PolicyRegistry.from_directory(tmp_path)


def test_a_directory_with_overlapping_versions_is_refused(tmp_path, source):
    _version(
        tmp_path,
        source,
        "2026-01-01",
        effective_date=date(2026, 1, 1),
        effective_to=date(2026, 9, 30),
    )
    _version(tmp_path, source, "2026-08-01", effective_date=date(2026, 8, 1))

    with pytest.raises(EffectiveRangeError, match="overlap"):
        PolicyRegistry.from_directory(tmp_path)


def test_a_new_case_takes_the_clocks_of_the_version_in_effect_on_its_day_of_receipt(
    monkeypatch, tmp_path, source
):
    shutil.copy(source, tmp_path / source.name)  # pend deadline 10 days
    _version(tmp_path, source, "2027-01-01", effective_date=date(2027, 1, 1))  # 3 days
    registry = serving(monkeypatch, PolicyRegistry.from_directory(tmp_path))

    def received(day: str) -> PARequest:
        data = example_requests.request(received_at=f"{day}T09:00:00Z", **as_testomab())
        return PARequest.model_validate(data)

    before = case_config_for(Settings(), received("2026-12-01"), policies=registry)
    after = case_config_for(Settings(), received("2027-01-02"), policies=registry)
    assert (before.pend_deadline_days, after.pend_deadline_days) == (10, 3)
