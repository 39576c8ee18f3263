"""Section IV: renewal of a live authorization."""

from __future__ import annotations

from datetime import date

import pytest

from domain.clinical_event import ClinicalEvent
from domain.facts import merge_facts
from domain.renewal import RenewalInput, decide_renewal
from tests.unit.factories import born, request

START = date(2026, 12, 3)
END = date(2027, 6, 30)  # relapsed_refractory initial period
WINDOW = date(2027, 5, 31)  # END - 30


def event(kind: str, day: str, **payload) -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {"event_id": f"EV-{kind}-{day}", "type": kind, "date": day, **payload}
    )


RESPONSE = event("response_assessment", "2027-05-01", response_assessment={
    "result": "complete_response", "method": "bone_marrow"})  # fmt: skip


def renew(policy, base="adult_rr", *, track="relapsed_refractory", used=0, as_of=WINDOW,
          events=(RESPONSE,), changes=None, start=START, end=END, path=None,
          last_cycle=None):  # fmt: skip
    req = request(base)
    if changes:
        req = merge_facts(req, changes)
    return decide_renewal(
        RenewalInput(
            request=req,
            track=track,
            path=path,
            renewals_used=used,
            last_cycle=last_cycle,
            period_start=start,
            period_end=end,
            as_of=as_of,
            events=list(events),
        ),
        policy,
    )


def test_a_relapsed_refractory_renewal_is_approved_for_cycles_6_and_7(policy):
    decision = renew(policy)

    assert (decision.determination, decision.x12_action, decision.automated) == (
        "approve",
        "A1",
        True,
    )
    auth = decision.authorization
    assert (auth.start, auth.end, auth.days) == (date(2027, 7, 1), date(2027, 12, 15), 168)
    assert (auth.first_cycle, auth.cycles, auth.authorized_units) == (6, 2, 1960)
    assert (auth.renewable, auth.kind, decision.renewal_number) == (True, "renewal", 1)
    assert [(c.cycle, c.phase, c.cycle_days) for c in decision.dosing.cycles] == [
        (6, "continued_therapy", 84),
        (7, "continued_therapy", 84),
    ]


def test_the_second_and_last_relapsed_refractory_renewal_is_not_renewable_again(policy):
    decision = renew(
        policy, used=1, start=date(2027, 7, 1), end=date(2027, 12, 15), as_of=date(2027, 12, 1),
        events=[event("response_assessment", "2027-11-01",
                      response_assessment={"result": "stable", "method": "qpcr"})],
    )  # fmt: skip

    assert decision.determination == "approve"
    assert (decision.authorization.first_cycle, decision.authorization.renewable) == (8, False)


@pytest.mark.parametrize("used", [0, 3])
def test_a_maintenance_renewal_covers_one_42_day_cycle(policy, used):
    decision = renew(policy, "adult_maint_ph_neg", track="maintenance", used=used,
                     end=date(2027, 5, 19), as_of=date(2027, 5, 1))  # fmt: skip

    assert decision.determination == "approve"
    assert (decision.authorization.cycles, decision.authorization.first_cycle) == (1, used + 2)
    assert decision.authorization.authorized_units == 980


MAINT = {"base": "adult_maint_ph_neg", "track": "maintenance", "end": date(2027, 5, 19),
         "as_of": date(2027, 5, 1)}  # fmt: skip


# Section I, prior therapy: a renewal covers the next cycles after the last one granted so
# far (here after grants that began past cycle 1), not cycles counted from renewals used.
@pytest.mark.parametrize(
    ("kw", "used", "last_cycle", "cycles", "renewable", "max_renewals"),
    [
        ({}, 0, 6, [7, 8], True, 2),  # 3 prior: 4-6 granted; 7-8 now, then 9
        ({}, 1, 8, [9], False, 2),
        ({}, 0, 7, [8, 9], False, 1),  # 5 prior: 6-7 granted
        (MAINT, 0, 3, [4], True, 2),  # 2 prior: 3 granted; 4 now, then 5
        (MAINT, 1, 4, [5], False, 2),
    ],
    ids=["rr-after-6", "rr-after-8", "rr-after-7", "maint-after-3", "maint-after-4"],
)
def test_a_renewal_continues_the_numbering_from_the_last_cycle_granted(
    policy, kw, used, last_cycle, cycles, renewable, max_renewals
):
    decision = renew(policy, used=used, last_cycle=last_cycle, **kw)

    assert decision.determination == "approve"
    auth = decision.authorization
    assert list(range(auth.first_cycle, auth.last_cycle + 1)) == cycles
    assert auth.authorized_units == 980 * len(cycles)
    assert (auth.renewable, auth.max_renewals) == (renewable, max_renewals)
    assert [c.cycle for c in decision.dosing.cycles] == cycles


def test_a_renewal_for_cycle_9_alone_doses_one_84_day_cycle(policy):
    decision = renew(policy, used=1, last_cycle=8)

    (cycle,) = decision.dosing.cycles
    assert (cycle.cycle, cycle.phase, cycle.cycle_days, cycle.treatment_days) == (
        9, "continued_therapy", 84, 28)  # fmt: skip
    assert [(d.from_day, d.to_day, d.mcg) for d in cycle.daily_doses] == [(1, 28, 28)]
    assert "cycle 9 of 9, 980 units" in decision.reasons[-1].text


@pytest.mark.parametrize(
    ("kw", "used", "last_cycle"),
    [({}, 1, 9), ({}, 0, 9), (MAINT, 2, 5)],
    ids=["rr-9-after-one-renewal", "rr-9-initially", "maint-5-after-two-renewals"],
)
def test_no_renewal_once_every_cycle_of_the_track_is_granted_even_with_renewals_left(
    policy, kw, used, last_cycle
):
    decision = renew(policy, used=used, last_cycle=last_cycle, **kw)

    assert decision.determination == "not_renewable"
    assert decision.authorization is None
    assert decision.reasons[0].policy_ref == "I"
    assert "cycles are authorized" in decision.reasons[0].text


@pytest.mark.parametrize(
    ("track", "used"),
    [("relapsed_refractory", 2), ("maintenance", 4), ("consolidation", 0), ("mrd_positive", 0),
     ("frontline_induction", 0), ("relapsed_refractory_aall1331", 0), ("infant_interfant", 0)],
)  # fmt: skip
def test_no_renewal_past_the_maximum_or_on_a_track_that_may_not_be_renewed(policy, track, used):
    decision = renew(policy, track=track, used=used)

    assert decision.determination == "not_renewable"
    assert decision.authorization is None
    assert decision.reasons[0].policy_ref == "I"


@pytest.mark.parametrize(
    ("as_of", "determination"),
    [
        (date(2027, 5, 30), "too_early"),
        (date(2027, 5, 31), "approve"),
        (date(2027, 6, 30), "approve"),
        (date(2027, 7, 1), "not_renewable"),
    ],
    ids=["end-minus-31", "end-minus-30", "last-day", "after-the-end"],
)
def test_the_renewal_window_runs_from_end_minus_30_to_the_last_day(policy, as_of, determination):
    decision = renew(policy, as_of=as_of)

    assert decision.determination == determination


def test_a_renewal_too_early_says_when_the_window_opens(policy):
    decision = renew(policy, as_of=date(2027, 3, 1))

    assert (decision.determination, decision.window_opens) == ("too_early", WINDOW)
    assert decision.reasons[0].policy_ref == "IV"


@pytest.mark.parametrize(
    ("kind", "grade", "determination"),
    [
        ("crs", 4, "deny"),
        ("icans", 5, "deny"),
        ("neutropenia", 4, "deny"),
        ("other", 4, "deny"),
        ("crs", 3, "review"),
        ("tumor_lysis_syndrome", 3, "review"),
        ("pancreatitis", 2, "approve"),
        ("serious_infection", 1, "approve"),
    ],
)
def test_unacceptable_toxicity_in_the_period_denies_and_grade_3_goes_to_review(
    policy, kind, grade, determination
):
    toxicity = event("toxicity", "2027-02-01", toxicity={"kind": kind, "grade": grade})

    decision = renew(policy, events=[RESPONSE, toxicity])

    assert decision.determination == determination
    if determination == "review":
        assert decision.authorization is not None  # the would-be grant
        assert decision.automated is False
        assert decision.trace.children[3].review_note.startswith("grade 3")


def test_toxicity_before_the_current_period_does_not_count(policy):
    old = event("toxicity", "2026-11-01", toxicity={"kind": "crs", "grade": 4})

    assert renew(policy, events=[RESPONSE, old]).determination == "approve"


def retract(target: ClinicalEvent, day: str = "2027-05-02") -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {"event_id": f"EV-UNDO-{target.event_id}", "type": "retraction", "date": day,
         "retraction": {"retracts": target.event_id, "reason": "entered in error"}}
    )  # fmt: skip


def test_a_retracted_grade_4_toxicity_no_longer_blocks_the_renewal(policy):
    grade_4 = event("toxicity", "2027-02-01", toxicity={"kind": "crs", "grade": 4})
    assert renew(policy, events=[RESPONSE, grade_4]).determination == "deny"

    decision = renew(policy, events=[RESPONSE, grade_4, retract(grade_4)])

    assert decision.determination == "approve"
    assert decision.trace.children[3].value is None  # no toxicity counted


def test_a_retracted_response_or_vaccine_no_longer_counts(policy):
    progression = event("response_assessment", "2027-05-10", response_assessment={
        "result": "progression", "method": "bone_marrow"})  # fmt: skip
    assert renew(policy, events=[RESPONSE, progression]).determination == "deny"
    assert renew(policy, events=[RESPONSE, progression, retract(progression)]).determination == (
        "approve"
    )
    assert renew(policy, events=[RESPONSE, retract(RESPONSE)]).determination == "pend"
    vaccine = event("live_vaccine", "2027-03-01")
    assert renew(policy, events=[RESPONSE, vaccine, retract(vaccine)]).determination == "approve"


@pytest.mark.parametrize(
    ("results", "determination"),
    [
        (["complete_response"], "approve"),
        (["partial_response"], "approve"),
        (["stable"], "approve"),
        (["progression"], "deny"),
        (["progression", "partial_response"], "approve"),  # the latest assessment counts
        (["complete_response", "progression"], "deny"),
    ],
)
def test_response_or_stabilization_must_be_documented(policy, results, determination):
    events = [
        event("response_assessment", f"2027-0{k + 2}-01",
              response_assessment={"result": r, "method": "flow_cytometry"})
        for k, r in enumerate(results)
    ]  # fmt: skip

    assert renew(policy, events=events).determination == determination


def test_no_response_reported_pends_for_it(policy):
    decision = renew(policy, events=[])

    assert (decision.determination, decision.x12_action) == ("pend", "A4")
    assert decision.missing_facts == ["events.response_assessment"]


def test_a_live_vaccine_during_the_period_fails_the_universal_criteria(policy):
    decision = renew(policy, events=[RESPONSE, event("live_vaccine", "2027-03-01")])

    assert decision.determination == "deny"
    assert "U2" in " ".join(r.text for r in decision.reasons)


def test_disease_state_prerequisites_are_not_rechecked(policy):
    changes = {"diagnosis.relapsed_or_refractory": False, "member.date_of_birth": born(80)}

    assert renew(policy, changes=changes).determination == "approve"


def test_the_concomitant_therapy_of_the_path_must_still_hold(policy):
    kwargs = {"track": "relapsed_refractory", "path": "P-RR"}
    still = renew(policy, "ped_rr_tki", **kwargs)
    stopped = renew(policy, "ped_rr_tki", changes={"therapy.combined_with": []}, **kwargs)
    switched = renew(policy, "ped_rr_tki", changes={"therapy.tki": "ponatinib"}, **kwargs)

    assert (still.determination, stopped.determination, switched.determination) == (
        "approve",
        "deny",
        "deny",
    )


def test_a_changed_fact_left_unknown_pends_the_renewal(policy):
    decision = renew(policy, "ped_rr_tki", path="P-RR", changes={"therapy.tki": None})

    assert decision.determination == "pend"
    assert decision.missing_facts == ["therapy.tki"]


def test_a_weight_change_doses_the_renewal_cycles(policy):
    weight = event("weight", "2027-04-01", weight={"weight_kg": 40.0, "height_cm": 150.0})

    decision = renew(policy, events=[RESPONSE, weight])

    assert decision.dosing.basis == "bsa"
    assert decision.dosing.cycles[0].daily_doses[0].mcg == 19.36


def test_the_renewal_trace_names_section_iv_criteria(policy):
    trace = renew(policy).trace

    assert (trace.id, trace.verdict, trace.policy_ref) == ("IV", "met", "IV")
    assert [c.id for c in trace.children] == ["IV-1", "IV-2", "IV-3", "IV-4", "IV-5"]
