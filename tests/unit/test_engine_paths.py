"""Every path of POLICY.md Section III is approved on its track with the Section I terms."""

from __future__ import annotations

from datetime import date

import pytest

from tests.unit.factories import START, request

ADULT_REF = "III (ALL – Adult)"
PEDIATRIC_REF = "III (Pediatric ALL)"

END_210 = date(2027, 6, 30)
END_168 = date(2027, 5, 19)
END_28 = date(2026, 12, 30)

# Section I, by track: days, last day, cycles, renewable, renewal days, max renewals, units
TERMS = {
    "relapsed_refractory": (210, END_210, 5, True, 168, 2, 4900),
    "relapsed_refractory_aall1331": (168, END_168, 3, False, None, 0, 2940),
    "frontline_induction": (28, END_28, 1, False, None, 0, 980),
    "consolidation": (210, END_210, 5, False, None, 0, 4900),
    "mrd_positive": (168, END_168, 4, False, None, 0, 3920),
    "maintenance": (168, END_168, 1, True, 168, 4, 980),
    "infant_interfant": (28, END_28, 1, False, None, 0, 980),
}

# base request, path, track, population
APPROVALS = [
    ("adult_rr", "A-RR", "relapsed_refractory", "adult"),
    ("adult_mrd", "A-MRD", "mrd_positive", "adult"),
    ("adult_frontline", "A-FI", "frontline_induction", "adult"),
    ("adult_cons_ph_neg", "A-CONS", "consolidation", "adult"),
    ("adult_cons_inotuzumab", "A-CONS", "consolidation", "adult"),
    ("adult_cons_tki", "A-CONS", "consolidation", "adult"),
    ("adult_maint_ph_neg", "A-MAINT", "maintenance", "adult"),
    ("adult_maint_ph_pos_refractory", "A-MAINT", "maintenance", "adult"),
    ("infant_interfant", "P-INF", "infant_interfant", "pediatric"),
    ("ped_mrd", "P-MRD", "mrd_positive", "pediatric"),
    ("ped_cons_ph_pos_tki", "P-CONS", "consolidation", "pediatric"),
    ("ped_cons_ph_neg", "P-CONS", "consolidation", "pediatric"),
    ("ped_cons_ph_like_single", "P-CONS", "consolidation", "pediatric"),
    ("ped_cons_ph_like_chemo_tki", "P-CONS", "consolidation", "pediatric"),
    ("ped_rr_single_ph_neg", "P-RR", "relapsed_refractory", "pediatric"),
    ("ped_rr_single_ph_pos_intolerant", "P-RR", "relapsed_refractory", "pediatric"),
    ("ped_rr_aall1331", "P-RR", "relapsed_refractory_aall1331", "pediatric"),
    ("ped_rr_tki", "P-RR", "relapsed_refractory", "pediatric"),
]


@pytest.mark.parametrize(
    ("base", "path", "track", "population"), APPROVALS, ids=[row[0] for row in APPROVALS]
)
def test_every_path_is_approved_on_its_track_with_the_section_i_terms(
    evaluate, base, path, track, population
):
    days, end, cycles, renewable, renewal_days, max_renewals, units = TERMS[track]
    decision = evaluate(request(base))

    assert decision.determination == "approve"
    assert decision.x12_action == "A1"
    assert decision.automated is True
    assert (decision.path, decision.track, decision.population) == (path, track, population)
    auth = decision.authorization
    assert (auth.start, auth.end, auth.days, auth.cycles) == (START, end, days, cycles)
    assert (auth.renewable, auth.renewal_period_days, auth.max_renewals) == (
        renewable,
        renewal_days,
        max_renewals,
    )
    assert auth.max_units_per_42_days == 980
    assert auth.authorized_units == units
    assert decision.missing_facts == []
    assert decision.reasons[0].code == "criteria_met"
    assert decision.reasons[0].policy_ref == (ADULT_REF if population == "adult" else PEDIATRIC_REF)
    assert [c.cycle for c in decision.dosing.cycles] == list(range(1, cycles + 1))


PHASES = [
    ("adult_rr", ["induction", "induction", "consolidation", "consolidation", "consolidation"], 42),
    ("adult_mrd", ["induction", "consolidation", "consolidation", "consolidation"], 42),
    ("adult_frontline", ["induction"], 28),
    ("adult_cons_ph_neg", ["consolidation"] * 5, 42),
    ("adult_maint_ph_neg", ["maintenance"], 42),
    ("infant_interfant", ["consolidation"], 28),
    ("ped_rr_aall1331", ["continued_therapy"] * 3, 56),
]


@pytest.mark.parametrize(("base", "phases", "cycle_days"), PHASES, ids=[p[0] for p in PHASES])
def test_the_initial_period_plans_the_cycles_of_section_i(evaluate, base, phases, cycle_days):
    decision = evaluate(request(base))

    assert [c.phase for c in decision.dosing.cycles] == phases
    assert {c.cycle_days for c in decision.dosing.cycles} == {cycle_days}
    assert {c.treatment_days for c in decision.dosing.cycles} == {28}


def test_the_contract_example_is_approved_as_the_contract_shows(evaluate):
    decision = evaluate(request("adult_rr", {"member.date_of_birth": "1980-04-02"}))

    out = decision.model_dump(mode="json")
    assert out["authorization"] == {
        "start": "2026-12-03",
        "end": "2027-06-30",
        "days": 210,
        "cycles": 5,
        "renewable": True,
        "renewal_period_days": 168,
        "max_renewals": 2,
        "max_units_per_42_days": 980,
        "authorized_units": 4900,
        "first_cycle": 1,
        "kind": "initial",
    }
    assert out["dosing"]["bsa_m2"] == 1.84
    assert out["dosing"]["basis"] == "flat"
    assert out["dosing"]["cycles"][0]["daily_doses"] == [
        {"from_day": 1, "to_day": 7, "mcg": 9},
        {"from_day": 8, "to_day": 28, "mcg": 28},
    ]
    assert out["policy"] == {"id": "OHSU-HEALTHSERVICES-0382", "version": "2025-09-04"}
    assert out["medicare"] is None


@pytest.mark.parametrize(
    ("changes", "path", "track"),
    [
        ({"therapy.combined_with": ["chemotherapy"]}, "P-CONS", "consolidation"),
        ({"therapy.combined_with": ["multiagent_chemotherapy"]}, "P-CONS", "consolidation"),
        ({"therapy.combined_with": ["chemotherapy", "ruxolitinib"]}, "P-CONS", "consolidation"),
        (
            {"therapy.combined_with": ["chemotherapy", "tki"], "therapy.tki": "imatinib"},
            "P-CONS",
            "consolidation",
        ),
    ],
    ids=["chemo", "multiagent", "chemo_ruxolitinib", "chemo_imatinib"],
)
def test_pediatric_ph_like_consolidation_with_chemotherapy_is_approved(
    evaluate, changes, path, track
):
    decision = evaluate(request("ped_cons_ph_like_single", changes))

    assert (decision.determination, decision.path, decision.track) == ("approve", path, track)


def test_pediatric_ph_like_single_agent_consolidation_is_approved(evaluate):
    decision = evaluate(request("ped_cons_ph_like_single"))

    assert (decision.determination, decision.path) == ("approve", "P-CONS")


@pytest.mark.parametrize("ph", ["negative", "ph_like"])
def test_ph_like_satisfies_every_ph_negative_criterion(evaluate, ph):
    assert (
        evaluate(request("adult_cons_ph_neg", diagnosis__ph_status=ph)).determination == "approve"
    )
    assert (
        evaluate(request("adult_maint_ph_neg", diagnosis__ph_status=ph)).determination == "approve"
    )
    assert evaluate(request("ped_rr_aall1331", diagnosis__ph_status=ph)).track == (
        "relapsed_refractory_aall1331"
    )


@pytest.mark.parametrize("tki", ["bosutinib", "dasatinib", "imatinib", "nilotinib", "ponatinib"])
def test_every_adult_tki_satisfies_with_a_tki(evaluate, tki):
    assert evaluate(request("adult_frontline", therapy__tki=tki)).determination == "approve"


@pytest.mark.parametrize(
    ("tki", "determination"),
    [("dasatinib", "approve"), ("imatinib", "approve"), ("bosutinib", "deny"),
     ("nilotinib", "deny"), ("ponatinib", "deny")],
)  # fmt: skip
def test_only_dasatinib_and_imatinib_satisfy_a_pediatric_tki(evaluate, tki, determination):
    assert evaluate(request("ped_rr_tki", therapy__tki=tki)).determination == determination


def test_refractory_to_tkis_wins_over_intolerant_for_pediatric_single_agent(evaluate):
    decision = evaluate(
        request("ped_rr_single_ph_pos_intolerant", diagnosis__tki_status="refractory")
    )

    assert (decision.determination, decision.track) == ("approve", "relapsed_refractory")


@pytest.mark.parametrize(
    "code", ["C91.00", "C9100", "c91.01", "C91.02", "C83.50", "C83.59", "C8355"]
)
def test_covered_diagnosis_codes_are_accepted_with_or_without_the_dot(evaluate, code):
    assert evaluate(request(diagnosis__icd10_codes=[code])).determination == "approve"


@pytest.mark.parametrize("code", ["C83.5A", "C91.10", "C91.03", "C83.60", "C92.00"])
def test_codes_outside_appendix_1_do_not_meet_criteria(evaluate, code):
    decision = evaluate(request(diagnosis__icd10_codes=[code]))

    assert decision.determination == "deny"
    assert [r.code for r in decision.reasons] == ["diagnosis_not_covered"]
    assert decision.reasons[0].policy_ref == "Appendix 1"


def test_one_covered_code_among_others_is_enough(evaluate):
    assert evaluate(request(diagnosis__icd10_codes=["Z51.11", "C91.00"])).determination == "approve"
