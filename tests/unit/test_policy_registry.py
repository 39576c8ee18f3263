"""Policies are a registry, selected by the request's drug (domain/policy_registry.py).

The real Blincyto policy and the synthetic Testomab one (tests/policies) in one
registry: each drug finds its own policy, a ref finds its version, an unknown drug
is refused, and two policies for one drug are refused (versions of one are not).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from cases.config import case_config, case_config_for
from domain.policy import POLICY_DIR
from domain.policy_registry import (
    LEGACY_POLICY_REF,
    PolicyConflict,
    PolicyRegistry,
    UnknownDrug,
    UnknownPolicy,
    default_registry,
)
from domain.request import PARequest
from examples import example_requests
from infra.settings import Settings
from tests.synthetic_policy import (
    SYNTHETIC_DIR,
    TESTOMAB,
    TESTOMAB_REF,
    as_testomab,
    serving,
    two_drugs,
)

BLINCYTO_REF = "OHSU-HEALTHSERVICES-0382@2025-09-04"


@pytest.fixture(scope="module")
def registry() -> PolicyRegistry:
    return two_drugs()


def _policy_file(directory: Path, source: Path, **changes) -> Path:
    data = yaml.safe_load(source.read_text())
    for section, values in changes.items():
        data[section].update(values)
    target = directory / f"{data['policy']['id'].lower()}_{data['policy']['version']}.yaml"
    target.write_text(yaml.safe_dump(data))
    return target


def test_the_default_registry_is_every_file_of_domain_policies():
    assert [p.ref for p in default_registry().policies] == [BLINCYTO_REF]
    assert default_registry().hcpcs == ("J9039",)


def test_each_drug_selects_its_own_policy(registry):
    assert registry.hcpcs == ("J9039", TESTOMAB)
    assert registry.for_drug("J9039").ref == BLINCYTO_REF
    testomab = registry.for_drug(TESTOMAB)
    assert testomab.ref == TESTOMAB_REF
    assert (testomab.units.max_units_per_window, testomab.units.window_days) == (500, 28)


def test_an_unknown_drug_is_refused_naming_the_covered_ones(registry):
    with pytest.raises(UnknownDrug) as caught:
        registry.for_drug("J0000")
    assert caught.value.covered == ("J9039", TESTOMAB)
    assert "J0000" in str(caught.value)


def test_a_ref_finds_its_version_and_an_unknown_ref_is_refused(registry):
    assert registry.get(TESTOMAB_REF).policy.drug_name == "Testomab"
    assert registry.get("TEST-SYNTHETIC-TESTOMAB").ref == TESTOMAB_REF  # an id: the newest
    assert TESTOMAB_REF in registry and "X@1" not in registry
    with pytest.raises(UnknownPolicy):
        registry.get("TEST-SYNTHETIC-TESTOMAB@1999-01-01")


def test_a_case_without_a_ref_is_resolved_by_its_drug_else_as_blincyto(registry):
    assert registry.resolve(None, TESTOMAB).ref == TESTOMAB_REF
    assert registry.resolve(TESTOMAB_REF, "J9039").ref == TESTOMAB_REF  # the ref wins
    assert registry.resolve(None).ref == LEGACY_POLICY_REF == BLINCYTO_REF
    assert registry.resolve(None, "J0000").ref == BLINCYTO_REF  # accepted under old rules


def test_two_policies_for_one_drug_are_refused(tmp_path):
    source = next(SYNTHETIC_DIR.glob("*.yaml"))
    shutil.copy(source, tmp_path / source.name)
    _policy_file(tmp_path, source, policy={"id": "TEST-RIVAL"})

    with pytest.raises(PolicyConflict, match="J9999 is covered by two policies"):
        PolicyRegistry.from_directory(tmp_path)


def test_the_same_ref_twice_is_refused(tmp_path):
    source = next(SYNTHETIC_DIR.glob("*.yaml"))
    shutil.copy(source, tmp_path / "a.yaml")
    shutil.copy(source, tmp_path / "b.yaml")

    with pytest.raises(PolicyConflict, match="given twice"):
        PolicyRegistry.from_directory(tmp_path)


def test_versions_of_one_policy_sit_side_by_side_and_the_one_in_effect_decides(tmp_path):
    source = next(SYNTHETIC_DIR.glob("*.yaml"))
    shutil.copy(source, tmp_path / source.name)
    _policy_file(
        tmp_path,
        source,
        policy={"version": "2027-01-01", "effective_date": date(2027, 1, 1)},
        units={"max_units_per_window": 600, "units_per_cycle": 600},
    )

    registry = PolicyRegistry.from_directory(tmp_path)

    assert registry.for_drug(TESTOMAB).version == "2027-01-01"
    assert registry.for_drug(TESTOMAB, as_of=date(2026, 6, 1)).version == "2026-01-01"
    assert registry.get(TESTOMAB_REF).units.max_units_per_window == 500


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(PolicyConflict, match="no policy"):
        PolicyRegistry.from_directory(tmp_path)


def test_a_request_for_the_second_drug_is_accepted_once_its_file_is_served(monkeypatch, registry):
    data = example_requests.request(**as_testomab())
    with pytest.raises(ValueError, match=r"service\.hcpcs"):
        PARequest.model_validate(data)  # not served by domain/policies alone

    serving(monkeypatch, registry)

    assert PARequest.model_validate(data).service.hcpcs == TESTOMAB


def test_a_case_takes_its_clocks_from_its_own_policy(monkeypatch, registry):
    serving(monkeypatch, registry)
    testomab = PARequest.model_validate(example_requests.request(**as_testomab()))
    blincyto = PARequest.model_validate(example_requests.request())

    mine = case_config_for(Settings(), testomab)
    theirs = case_config_for(Settings(), blincyto)

    assert (mine.pend_deadline_days, mine.renewal_reminder_days) == (10, [10, 3])
    assert mine.decision_clocks["commercial"].standard_hours == 48
    assert mine.appeal_window_days["medicaid"] == 45
    assert (theirs.pend_deadline_days, theirs.renewal_reminder_days) == (14, [14, 7])
    assert theirs.decision_clocks["commercial"].expedited_hours == 24
    assert theirs.appeal_window_days == {
        "commercial": 180,
        "medicaid": 60,
        "medicare_advantage": 65,
        "medicare_part_b": 0,
    }


def test_a_setting_overrides_a_policy_clock_only_when_set(registry):
    testomab = registry.for_drug(TESTOMAB)
    config = case_config(
        Settings(pend_deadline_days=5, decision_clock_expedited_hours=6, renewal_reminder_days="2"),
        testomab,
    )

    assert config.pend_deadline_days == 5
    assert config.renewal_reminder_days == [2]
    assert config.decision_clocks["medicaid"].expedited_hours == 6
    assert config.decision_clocks["medicaid"].standard_hours == 48  # not set: the policy's
    assert config.appeal_window_days["commercial"] == 90


def test_every_policy_served_names_its_drug_for_notices_and_the_ui():
    for policy in two_drugs().policies:
        assert policy.policy.drug_name and policy.policy.generic_name
        assert policy.hcpcs_unit.startswith("1 unit = ")
    assert POLICY_DIR.name == "policies"
