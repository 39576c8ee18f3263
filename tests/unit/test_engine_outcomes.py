"""The outcome rules of POLICY.md: AYA review, ages, tie-breaks, other paths, not listed,
deny as a recommendation, and Medicare Part B (Appendix 2)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.unit.factories import born, request


def on(day: date, **changes):
    """Change the receipt and requested start to ``day`` (ages are taken at the period start)."""
    return {
        "received_at": f"{day.isoformat()}T09:00:00Z",
        "service.requested_start": day.isoformat(),
        **changes,
    }


# --- AYA notes and age boundaries (Section III, "Ages") --------------------------------------

ADULT_ONLY = "adult_maint_ph_neg"  # maintenance has no pediatric path
PEDIATRIC_ONLY = "ped_cons_ph_like_single"  # Ph-like single-agent consolidation: pediatric only


@pytest.mark.parametrize(
    ("dob", "determination"),
    [
        (born(14), "deny"),
        (born(15, days=1), "deny"),  # the day before the 15th birthday
        (born(15), "review"),
        (born(16), "review"),
        (born(17), "review"),
        (born(18, days=1), "review"),  # the day before the 18th birthday
        (born(18), "approve"),  # the 18th birthday itself
        (born(39), "approve"),
    ],
    ids=["14", "15-minus-1-day", "15", "16", "17", "18-minus-1-day", "18th-birthday", "39"],
)
def test_aya_15_to_17_meeting_every_adult_criterion_goes_to_review(evaluate, dob, determination):
    decision = evaluate(request(ADULT_ONLY, member__date_of_birth=dob))

    assert decision.determination == determination


@pytest.mark.parametrize(
    ("dob", "determination"),
    [
        (born(17), "approve"),
        (born(18, days=1), "approve"),  # the day before the 18th birthday
        (born(18), "review"),  # the 18th birthday: the pediatric path no longer applies
        (born(25), "review"),
        (born(30), "review"),
        (born(31, days=1), "review"),  # 30 years and 364 days: "up to 30"
        (born(31), "deny"),
    ],
    ids=["17", "18-minus-1-day", "18th-birthday", "25", "30", "31-minus-1-day", "31"],
)
def test_aya_18_to_30_meeting_every_pediatric_criterion_goes_to_review(
    evaluate, dob, determination
):
    decision = evaluate(request(PEDIATRIC_ONLY, member__date_of_birth=dob))

    assert decision.determination == determination


def test_a_review_carries_the_would_be_grant_and_the_aya_note(evaluate):
    decision = evaluate(request(ADULT_ONLY, member__date_of_birth=born(16)))

    assert decision.determination == "review"
    assert (decision.x12_action, decision.automated) == ("CT", False)
    assert (decision.path, decision.track, decision.population) == (
        "A-MAINT",
        "maintenance",
        "adult",
    )
    assert decision.authorization.cycles == 1
    assert decision.dosing is not None
    assert decision.reasons[0].code == "aya_clinical_review"
    assert decision.reasons[0].policy_ref == "III (ALL – Adult)"
    a0 = next(n for n in decision.trace.children[1].children[0].children if n.id == "A0")
    assert a0.verdict == "not_met"
    assert "AYA" in a0.review_note


def test_pediatric_aya_review_cites_the_pediatric_section(evaluate):
    decision = evaluate(request(PEDIATRIC_ONLY, member__date_of_birth=born(22)))

    assert (decision.determination, decision.population) == ("review", "pediatric")
    assert decision.reasons[0].policy_ref == "III (Pediatric ALL)"


def test_a_full_adult_path_wins_over_a_pediatric_aya_review(evaluate):
    decision = evaluate(request("ped_rr_single_ph_neg", member__date_of_birth=born(20)))

    assert (decision.determination, decision.path) == ("approve", "A-RR")


def test_an_aya_patient_with_unknown_facts_pends_first(evaluate):
    decision = evaluate(
        request(ADULT_ONLY, member__date_of_birth=born(16), diagnosis__ph_status=None)
    )

    assert decision.determination == "pend"
    assert decision.missing_facts == ["diagnosis.ph_status", "diagnosis.tki_status"]


@pytest.mark.parametrize(
    ("dob", "determination"),
    [(born(0, 1), "approve"), (born(0, 1, days=1), "deny"), (born(0, 0, days=20), "deny")],
    ids=["1-month", "1-month-minus-1-day", "10-days-old"],
)
def test_the_pediatric_path_starts_at_exactly_1_month(evaluate, dob, determination):
    assert evaluate(request("infant_interfant", member__date_of_birth=dob)).determination == (
        determination
    )


@pytest.mark.parametrize(
    ("dob", "start", "determination"),
    [
        ("2026-10-31", date(2026, 11, 30), "approve"),  # no 31 November: the month's last day
        ("2026-10-31", date(2026, 11, 29), "deny"),
        ("2026-01-31", date(2026, 2, 28), "approve"),
    ],
)
def test_one_month_from_a_month_end_is_the_next_months_last_day(
    evaluate, dob, start, determination
):
    decision = evaluate(request("infant_interfant", on(start, **{"member.date_of_birth": dob})))

    assert decision.determination == determination


@pytest.mark.parametrize(
    ("start", "determination"),
    [(date(2026, 2, 28), "review"), (date(2026, 3, 1), "approve")],
)
def test_a_29_february_birthday_turns_18_on_1_march_in_a_common_year(
    evaluate, start, determination
):
    changes = on(start, **{"member.date_of_birth": "2008-02-29"})

    assert evaluate(request(ADULT_ONLY, changes)).determination == determination


def test_age_is_taken_at_the_period_start_not_at_receipt(evaluate):
    changes = {
        "received_at": "2026-12-01T09:00:00Z",
        "service.requested_start": "2026-12-10",
        "member.date_of_birth": "2008-12-05",  # 18 on 2026-12-05, between receipt and start
    }

    decision = evaluate(request(ADULT_ONLY, changes))

    assert decision.determination == "approve"
    assert decision.authorization.start == date(2026, 12, 10)


def test_a_requested_start_before_receipt_starts_on_the_day_of_receipt(evaluate):
    changes = {"service.requested_start": "2026-11-20", "member.date_of_birth": "2008-12-01"}

    decision = evaluate(request(ADULT_ONLY, changes))

    assert decision.determination == "approve"  # 18 on the receipt day, 2026-12-01
    assert decision.authorization.start == date(2026, 12, 1)


def test_a_later_decision_does_not_move_the_period(evaluate):
    decision = evaluate(request("adult_rr"), as_of=date(2027, 1, 15))

    assert (decision.authorization.start, decision.authorization.end) == (
        date(2026, 12, 3),
        date(2027, 6, 30),
    )
    assert decision.as_of == date(2027, 1, 15)


# --- choosing among paths (rule 1) ------------------------------------------------------------


def test_the_path_naming_the_requested_regimen_wins(evaluate):
    decision = evaluate(request("ped_rr_aall1331"))

    assert decision.trace is not None
    assert (decision.path, decision.track) == ("P-RR", "relapsed_refractory_aall1331")


def test_a_requested_path_wins_over_an_other_path(evaluate):
    decision = evaluate(request("adult_mrd", diagnosis__relapsed_or_refractory=True))

    assert (decision.path, decision.track) == ("A-MRD", "mrd_positive")


def test_the_first_path_in_policy_order_wins_when_no_setting_is_stated(evaluate):
    changes = {"therapy.setting": None, "diagnosis.relapsed_or_refractory": True}

    decision = evaluate(request("adult_mrd", changes))

    assert (decision.determination, decision.path) == ("approve", "A-MRD")


def test_an_other_path_fully_met_approves_on_its_own_track(evaluate):
    changes = {"therapy.combined_with": [], "diagnosis.relapsed_or_refractory": True}

    decision = evaluate(request("adult_cons_ph_neg", changes))

    assert (decision.determination, decision.path, decision.track) == (
        "approve",
        "A-RR",
        "relapsed_refractory",
    )
    assert "other_path" in [r.code for r in decision.reasons]


def test_the_unknown_facts_of_an_other_path_never_pend(evaluate):
    changes = {"therapy.combined_with": [], "diagnosis.relapsed_or_refractory": None}

    decision = evaluate(request("adult_cons_ph_neg", changes))

    assert decision.determination == "deny"
    assert decision.missing_facts == []


def test_the_failures_of_an_other_path_never_deny_a_pendable_request(evaluate):
    decision = evaluate(request("adult_frontline", therapy__tki=None))

    assert decision.determination == "pend"
    assert decision.missing_facts == ["therapy.tki"]


# --- deny (rule 4) -------------------------------------------------------------------------------


def test_a_use_not_listed_cites_the_eov_program(evaluate):
    decision = evaluate(
        request("ped_cons_ph_neg", therapy__setting="maintenance", therapy__combined_with=[])
    )

    assert decision.determination == "deny"
    assert decision.reasons[0].code == "not_listed"
    assert decision.reasons[0].policy_ref == "III (Enhanced Oncology Value (EOV) Program)"
    assert "inadequate data" in decision.reasons[0].text
    assert decision.population == "pediatric"


def test_a_listed_use_failing_a_universal_criterion_is_not_called_unlisted(evaluate):
    decision = evaluate(request("adult_rr", clinical__live_vaccine_planned=True))

    assert [r.code for r in decision.reasons] == ["criterion_not_met"]
    assert decision.reasons[0].policy_ref == "III (Universal Criteria)"


@pytest.mark.parametrize(
    ("line_of_business", "allowed", "automated"),
    [
        ("commercial", False, False),
        ("commercial", True, True),
        ("medicaid", True, True),
        ("medicare_advantage", True, False),  # a person reviews every adverse decision
    ],
)
def test_a_deny_is_automated_only_when_a_setting_allows_it(
    evaluate, line_of_business, allowed, automated
):
    req = request("adult_rr", line_of_business=line_of_business, diagnosis__b_cell_precursor=False)

    decision = evaluate(req, allow_automatic_denial=allowed)

    assert (decision.determination, decision.x12_action) == ("deny", "A3")
    assert decision.automated is automated


def test_medicare_advantage_applies_this_policy(evaluate):
    decision = evaluate(request("adult_rr", line_of_business="medicare_advantage"))

    assert (decision.determination, decision.medicare) == ("approve", None)


# --- Medicare Part B (Appendix 2) ------------------------------------------------------------

NOVITAS = "Novitas Solutions, Inc."
NORIDIAN = "Noridian Healthcare Solutions, LLC"
PALMETTO = "Palmetto GBA"
WPS = "Wisconsin Physicians Service Insurance Corp (WPS)"
NGS = "National Government Services, Inc. (NGS)"

MACS = [
    ("OR", None, "F", NORIDIAN),
    ("CA", None, "E", NORIDIAN),
    ("GU", None, "E", NORIDIAN),
    ("MP", None, "E", NORIDIAN),
    ("KS", None, "5", WPS),
    ("IL", None, "6", NGS),
    ("TX", None, "H", NOVITAS),
    ("CO", None, "H", NOVITAS),
    ("MI", None, "8", WPS),
    ("FL", None, "N", "First Coast Service Options, Inc."),
    ("PR", None, "N", "First Coast Service Options, Inc."),
    ("GA", None, "J", PALMETTO),
    ("NC", None, "M", PALMETTO),
    ("WV", None, "M", PALMETTO),
    ("PA", None, "L", NOVITAS),
    ("DC", None, "L", NOVITAS),
    ("NY", None, "K", NGS),
    ("ME", None, "K", NGS),
    ("OH", None, "15", "CGS Administrators, LLC"),
    ("VA", None, "M", PALMETTO),
    ("VA", "Richmond", "M", PALMETTO),
    ("VA", "Arlington", "L", NOVITAS),
    ("VA", "Arlington County", "L", NOVITAS),
    ("VA", "Fairfax County", "L", NOVITAS),
    ("VA", "City of Alexandria", "L", NOVITAS),
    ("VA", "Alexandria city", "L", NOVITAS),
    ("VA", "Fairfax city", "M", PALMETTO),
    ("MD", "Arlington", "L", NOVITAS),
]


@pytest.mark.parametrize(("state", "county", "jurisdiction", "contractor"), MACS)
def test_medicare_part_b_is_not_applicable_and_names_the_states_mac(
    evaluate, state, county, jurisdiction, contractor
):
    changes = {
        "line_of_business": "medicare_part_b",
        "service.site_state": state,
        "service.site_county": county,
    }

    decision = evaluate(request("adult_rr", changes))

    assert (decision.determination, decision.x12_action) == ("not_applicable", "CT")
    assert (decision.medicare.jurisdiction, decision.medicare.contractor) == (
        jurisdiction,
        contractor,
    )
    assert decision.authorization is None
    assert decision.reasons[0].policy_ref == "Appendix 2"


def test_medicare_part_b_uses_the_members_state_when_no_site_is_given(evaluate):
    decision = evaluate(request("adult_rr", line_of_business="medicare_part_b"))

    assert decision.model_dump(mode="json")["medicare"] == {
        "jurisdiction": "F",
        "contractor": NORIDIAN,
        "state": "OR",
    }


def test_medicare_part_b_is_not_applicable_even_when_criteria_fail(evaluate):
    req = request("adult_rr", line_of_business="medicare_part_b", diagnosis__ph_status=None)

    assert evaluate(req).determination == "not_applicable"


def test_medicare_part_b_without_a_state_asks_for_it(evaluate):
    req = request("adult_rr", line_of_business="medicare_part_b", member__state=None)

    decision = evaluate(req)

    assert (decision.determination, decision.medicare) == ("not_applicable", None)
    assert decision.missing_facts == ["member.state"]
