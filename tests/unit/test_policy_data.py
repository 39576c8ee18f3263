"""The policy file holds the policy: ids, dates, Section I-VI and Appendix 1-2 as written."""

from __future__ import annotations

from datetime import date

import pytest

from domain.policy import POLICY_DIR, load_policy


def test_the_policy_file_names_its_id_and_effective_date(policy):
    assert (policy.policy.id, policy.policy.version) == ("OHSU-HEALTHSERVICES-0382", "2025-09-04")
    assert policy.policy.effective_date == date(2025, 9, 4)


def test_one_file_per_policy_version_is_found_by_id_or_version():
    assert [p.name for p in POLICY_DIR.glob("*.yaml")] == [
        "ohsu-healthservices-0382_2025-09-04.yaml"
    ]
    assert load_policy("OHSU-HEALTHSERVICES-0382") is load_policy()
    assert load_policy("OHSU-HEALTHSERVICES-0382@2025-09-04") is load_policy()
    with pytest.raises(FileNotFoundError):
        load_policy("NO-SUCH-POLICY")


# track, initial days, initial cycles, renewal days, max renewals, cycles per renewal, total
SECTION_I = [
    ("relapsed_refractory", 210, 5, 168, 2, 2, 9),
    ("relapsed_refractory_aall1331", 168, 3, None, 0, 0, 3),
    ("frontline_induction", 28, 1, None, 0, 0, 1),
    ("consolidation", 210, 5, None, 0, 0, 5),
    ("mrd_positive", 168, 4, None, 0, 0, 4),
    ("maintenance", 168, 1, 168, 4, 1, 5),
    ("infant_interfant", 28, 1, None, 0, 0, 1),
]


@pytest.mark.parametrize(
    ("track", "days", "cycles", "renewal_days", "renewals", "per_renewal", "total"), SECTION_I
)
def test_section_i_tracks(policy, track, days, cycles, renewal_days, renewals, per_renewal, total):
    t = policy.tracks[track]
    renewal = t.renewal

    assert (t.initial_days, t.initial_cycles, t.total_cycles) == (days, cycles, total)
    assert (
        renewal.period_days if renewal else None,
        renewal.max_renewals if renewal else 0,
        renewal.cycles_per_renewal if renewal else 0,
    ) == (renewal_days, renewals, per_renewal)


def test_section_ii_limits_980_units_per_42_days(policy):
    assert (policy.units.max_units_per_window, policy.units.window_days) == (980, 42)
    assert policy.units.units_per_cycle == 980


def test_section_vi_billing_codes(policy):
    assert policy.billing.hcpcs == ["J9039"]
    assert policy.billing.ndc_products == ["55513-0160"]


def test_appendix_1_is_the_explicit_list_without_c83_5a(policy):
    assert sorted(policy.covered_icd10.codes) == [
        *(f"C83.5{n}" for n in range(10)),
        "C91.00",
        "C91.01",
        "C91.02",
    ]


def test_tki_lists(policy):
    assert policy.lists["adult_tkis"].values == [
        "bosutinib",
        "dasatinib",
        "imatinib",
        "nilotinib",
        "ponatinib",
    ]
    assert policy.lists["pediatric_tkis"].values == ["dasatinib", "imatinib"]


def test_appendix_2_lists_every_state_once(policy):
    states = [s for mac in policy.medicare.jurisdictions for s in mac.states]

    assert len(states) == len(set(states)) == 50 + 1 + 5  # states, DC, AS GU MP PR VI


def test_section_iv_renewal_rules(policy):
    rules = policy.renewal
    assert rules.window_days_before_end == 30
    assert (rules.toxicity.not_met_from_grade, rules.toxicity.review_from_grade) == (4, 3)
    assert set(rules.response.methods) == {
        "cbc",
        "bone_marrow",
        "qpcr",
        "fish",
        "flow_cytometry",
        "ngs",
    }


def test_every_criterion_has_an_id_a_label_and_a_citation(policy):
    nodes = list(policy.criteria.walk())

    assert len({n.id for n in nodes}) == len(nodes)
    assert all(n.label for n in nodes)
    ids = {n.id for n in nodes}
    expected = {"U1", "U2", "A0", "A1", "A-MRD", "A-FI", "A-CONS", "A-MAINT", "A-RR",
                "P0", "P-INF", "P-MRD", "P-CONS", "P-RR"}  # fmt: skip
    assert expected <= ids


def test_every_path_belongs_to_its_setting(policy):
    paths = {n.id: n.setting for n in policy.criteria.walk() if n.path}

    assert paths == {
        "A-MRD": "mrd_positive",
        "A-FI": "frontline_induction",
        "A-CONS": "consolidation",
        "A-MAINT": "maintenance",
        "A-RR": "relapsed_refractory",
        "P-INF": "consolidation",
        "P-MRD": "mrd_positive",
        "P-CONS": "consolidation",
        "P-RR": "relapsed_refractory",
    }


def test_decision_clocks_and_appeal_windows_by_line_of_business(policy):
    lob = policy.lines_of_business

    assert {k: v.appeal_window_days for k, v in lob.items() if k != "medicare_part_b"} == {
        "commercial": 180,
        "medicaid": 60,
        "medicare_advantage": 65,
    }
    assert all(v.decision_hours == {"standard": 72, "expedited": 24} for v in lob.values())


def test_timely_filing_limits_by_line_of_business_are_policy_data(policy):
    lob = policy.lines_of_business

    assert {k: v.timely_filing_days for k, v in lob.items() if k != "medicare_part_b"} == {
        "commercial": 180,
        "medicaid": 365,
        "medicare_advantage": 365,
    }
    assert policy.timely_filing_days("medicaid") == 365
    assert policy.timely_filing_days("no_such_line") is None
