"""Section V: Mosteller BSA, flat doses from 45 kg, mcg/m2 below it, the caps."""

from __future__ import annotations

import pytest

from domain.dosing import dosing_plan, mosteller_bsa, round2
from tests.unit.factories import request


def doses(cycle):
    return [(d.from_day, d.to_day, d.mcg) for d in cycle.daily_doses]


def test_mosteller_bsa_is_the_square_root_of_height_times_weight_over_3600():
    assert mosteller_bsa(170, 72) == pytest.approx(1.843909, abs=1e-6)
    assert mosteller_bsa(180, 80) == pytest.approx(2.0)


@pytest.mark.parametrize(("value", "rounded"), [(2.675, 2.68), (0.125, 0.13), (20.5149, 20.51)])
def test_doses_round_half_up_to_two_decimals(value, rounded):
    assert round2(value) == rounded


@pytest.mark.parametrize(
    ("weight", "height", "basis", "bsa", "cycle1", "cycle2"),
    [
        (45.0, 150.0, "flat", 1.37, [(1, 7, 9), (8, 28, 28)], [(1, 28, 28)]),
        (44.9, 150.0, "bsa", 1.37, [(1, 7, 6.84), (8, 28, 20.52)], [(1, 28, 20.52)]),
        (44.9, 290.0, "bsa", 1.9, [(1, 7, 9), (8, 28, 28)], [(1, 28, 28)]),  # both caps
        (32.0, 138.0, "bsa", 1.11, [(1, 7, 5.54), (8, 28, 16.61)], [(1, 28, 16.61)]),
    ],
    ids=["45kg-flat", "44.9kg-bsa", "44.9kg-capped-at-9-and-28", "32kg"],
)
def test_relapsed_refractory_doses_by_weight_band(
    evaluate, weight, height, basis, bsa, cycle1, cycle2
):
    req = request("adult_rr", clinical__weight_kg=weight, clinical__height_cm=height)

    dosing = evaluate(req).dosing

    assert (dosing.basis, dosing.bsa_m2) == (basis, bsa)
    assert doses(dosing.cycles[0]) == cycle1
    assert all(doses(c) == cycle2 for c in dosing.cycles[1:])
    assert {c.basis for c in dosing.cycles} == {basis}


@pytest.mark.parametrize("base", ["adult_mrd", "adult_cons_ph_neg", "ped_mrd", "ped_cons_ph_neg"])
@pytest.mark.parametrize(
    ("weight", "height", "expected"),
    [(45.0, 150.0, [(1, 28, 28)]), (44.9, 150.0, [(1, 28, 20.52)]), (44.9, 290.0, [(1, 28, 28)])],
    ids=["45kg", "44.9kg", "44.9kg-capped"],
)
def test_mrd_and_consolidation_are_28_mcg_flat_or_15_per_m2_capped(
    evaluate, base, weight, height, expected
):
    req = request(base, clinical__weight_kg=weight, clinical__height_cm=height)

    dosing = evaluate(req).dosing

    assert all(doses(c) == expected for c in dosing.cycles)
    assert {(c.cycle_days, c.treatment_days) for c in dosing.cycles} == {(42, 28)}


@pytest.mark.parametrize(("weight", "height"), [(30.0, 130.0), (90.0, 180.0), (None, None)])
def test_frontline_induction_is_up_to_9_then_28_mcg_at_any_weight(evaluate, weight, height):
    req = request("adult_frontline", clinical__weight_kg=weight, clinical__height_cm=height)

    (cycle,) = evaluate(req).dosing.cycles

    assert doses(cycle) == [(1, 7, 9), (8, 28, 28)]
    assert (cycle.basis, cycle.dose_is_maximum, cycle.cycle_days) == ("flat", True, 28)


@pytest.mark.parametrize("weight", [30.0, 90.0])
def test_maintenance_is_up_to_28_mcg_daily_at_any_weight(evaluate, weight):
    (cycle,) = evaluate(request("adult_maint_ph_neg", clinical__weight_kg=weight)).dosing.cycles

    assert doses(cycle) == [(1, 28, 28)]
    assert (cycle.basis, cycle.dose_is_maximum, cycle.cycle_days) == ("flat", True, 42)


@pytest.mark.parametrize(
    ("weight", "height", "mcg"),
    [(32.0, 138.0, 16.61), (80.0, 180.0, 28), (45.0, 150.0, 20.54)],
    ids=["32kg", "80kg-capped-at-28", "45kg-still-per-m2"],
)
def test_aall1331_is_15_per_m2_at_any_weight_capped_at_28(evaluate, weight, height, mcg):
    req = request("ped_rr_aall1331", clinical__weight_kg=weight, clinical__height_cm=height)

    dosing = evaluate(req).dosing

    assert dosing.basis == "bsa"
    assert [doses(c) for c in dosing.cycles] == [[(1, 28, mcg)]] * 3
    assert {c.cycle_days for c in dosing.cycles} == {56}


def test_the_infant_interfant_dose_is_15_per_m2(evaluate):
    dosing = evaluate(request("infant_interfant")).dosing

    assert (dosing.basis, dosing.bsa_m2) == ("bsa", 0.32)
    assert [doses(c) for c in dosing.cycles] == [[(1, 28, 4.82)]]


def test_relapsed_refractory_continued_therapy_cycles_are_84_days(policy):
    plan = dosing_plan(policy, "relapsed_refractory", range(6, 10), 44.9, 150.0)

    assert [(c.cycle, c.phase, c.cycle_days) for c in plan.cycles] == [
        (n, "continued_therapy", 84) for n in range(6, 10)
    ]
    assert all(doses(c) == [(1, 28, 20.52)] for c in plan.cycles)


def test_maintenance_cycles_two_to_five_keep_the_maintenance_dose(policy):
    plan = dosing_plan(policy, "maintenance", [5], 70.0, None)

    assert [(c.cycle, c.phase, doses(c)) for c in plan.cycles] == [
        (5, "maintenance", [(1, 28, 28)])
    ]


@pytest.mark.parametrize(
    ("weight", "height"), [(None, 150.0), (30.0, None)], ids=["no-weight", "no-height-below-45"]
)
def test_without_the_weight_needed_the_approval_has_no_dosing_plan(evaluate, weight, height):
    req = request("adult_rr", clinical__weight_kg=weight, clinical__height_cm=height)

    decision = evaluate(req)

    assert (decision.determination, decision.dosing) == ("approve", None)
    assert decision.reasons[-1].code == "dosing_needs_weight"
    assert decision.reasons[-1].policy_ref == "V"


def test_a_flat_dose_needs_no_height(evaluate):
    dosing = evaluate(request("adult_rr", clinical__height_cm=None)).dosing

    assert (dosing.basis, dosing.bsa_m2) == ("flat", None)
