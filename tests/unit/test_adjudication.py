"""POLICY.md "Claims against an authorization": every check in its order, with its CARC."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.adjudication import (
    ClaimContext,
    PeriodUnits,
    PriorLine,
    adjudicate,
    is_replay,
    rolling_room,
)
from domain.claim import ClaimAnswer, ClaimLine

START = date(2026, 12, 3)
END = date(2027, 6, 30)


def line(**changes) -> ClaimLine:
    data = {
        "claim_id": "CLM-77",
        "line": 1,
        "member_id": "M-1",
        "date_of_service": "2026-12-04",
        "hcpcs": "J9039",
        "ndc": "55513-0160-01",
        "units": 35,
        "modifiers": ["JW"],
        "icd10_codes": ["C91.00"],
    }
    data.update(changes)
    return ClaimLine.model_validate(data)


def ctx(**changes) -> ClaimContext:
    data = {"periods": [PeriodUnits(start=START, end=END, authorized_units=4900, paid_units=0)]}
    data.update(changes)
    return ClaimContext(**data)


def daily(first: date, days: int, units: int) -> list[tuple[date, int]]:
    return [(first + timedelta(days=k), units) for k in range(days)]


def test_a_clean_line_is_paid_in_full(policy):
    answer = adjudicate(line(), ctx(), policy)

    assert answer.model_dump() == {
        "claim_id": "CLM-77",
        "line": 1,
        "status": "paid",
        "allowed_units": 35,
        "denied_units": 0,
        "carc_codes": [],
        "message": "35 of 35 units allowed.",
        "policy_ref": "II",
        "reversal": False,
    }


# --- 1. duplicates -------------------------------------------------------------------------------


def test_an_identical_line_gets_the_first_answer_again(policy):
    first = adjudicate(line(), ctx(), policy)
    again = ctx(previous=PriorLine(line=line(), answer=first))

    assert is_replay(line(), again)
    assert adjudicate(line(), again, policy) == first


def test_a_replayed_line_keeps_its_first_answer_even_if_the_limits_changed_since(policy):
    first = adjudicate(line(), ctx(), policy)
    full = ctx(
        previous=PriorLine(line=line(), answer=first),
        member_paid_units=daily(START, 28, 35),
    )

    assert adjudicate(line(), full, policy) == first


def test_the_same_claim_line_with_different_content_is_denied_16(policy):
    first = adjudicate(line(), ctx(), policy)

    answer = adjudicate(line(units=70), ctx(previous=PriorLine(line=line(), answer=first)), policy)

    assert (answer.status, answer.allowed_units, answer.denied_units) == ("denied", 0, 70)
    assert answer.carc_codes == ["16"]
    assert not is_replay(line(units=70), ctx(previous=PriorLine(line=line(), answer=first)))


# --- 2. timely filing (POLICY.md, Claims run-out) ------------------------------------------------

# The example: an infusion on 2027-06-29 in a period that ended 2027-06-30.
LATE_DOS = "2027-06-29"


def late(received: str, limit: int = 180, **changes) -> ClaimContext:
    return ctx(received_on=date.fromisoformat(received), timely_filing_days=limit, **changes)


@pytest.mark.parametrize(
    ("received", "status", "carc"),
    [
        ("2027-07-09", "paid", []),  # nine days after the case expired
        ("2027-12-26", "paid", []),  # the limit's last day: DOS + 180
        ("2027-12-27", "denied", ["29"]),
        ("2028-06-29", "denied", ["29"]),
    ],
    ids=["nine-days-late", "last-day-of-the-limit", "a-day-after-the-limit", "a-year-later"],
)
def test_a_line_received_after_the_timely_filing_limit_of_its_date_of_service_is_denied_29(
    policy, received, status, carc
):
    answer = adjudicate(line(date_of_service=LATE_DOS), late(received), policy)

    assert (answer.status, answer.carc_codes) == (status, carc)


def test_the_timely_filing_denial_names_the_limit_and_its_last_day(policy):
    answer = adjudicate(line(date_of_service=LATE_DOS), late("2028-01-10"), policy)

    assert (answer.allowed_units, answer.denied_units) == (0, 35)
    assert "180 days" in answer.message and "2027-12-26" in answer.message
    assert answer.policy_ref == "Claims against an authorization (claims run-out, timely filing)"


@pytest.mark.parametrize(
    ("limit", "status"), [(180, "denied"), (365, "paid")], ids=["commercial", "medicaid"]
)
def test_the_limit_is_the_one_given_for_the_line_of_business(policy, limit, status):
    answer = adjudicate(line(date_of_service=LATE_DOS), late("2028-02-01", limit), policy)

    assert answer.status == status


def test_without_an_arrival_day_or_a_limit_nothing_is_late(policy):
    dos = line(date_of_service="2026-12-04")

    assert adjudicate(dos, ctx(timely_filing_days=0), policy).status == "paid"
    assert adjudicate(dos, ctx(received_on=date(2030, 1, 1)), policy).status == "paid"


def test_timely_filing_is_checked_after_the_duplicate_check(policy):
    first = adjudicate(line(), late("2026-12-05"), policy)
    seen = PriorLine(line=line(), answer=first)

    assert adjudicate(line(), late("2028-01-01", previous=seen), policy) == first
    other = adjudicate(line(units=70), late("2028-01-01", previous=seen), policy)
    assert other.carc_codes == ["16"]


@pytest.mark.parametrize(
    "changes",
    [
        {"hcpcs": "J9999"},
        {"icd10_codes": ["C92.00"]},
        {"date_of_service": "2026-12-02"},
    ],
    ids=["before-15", "before-11", "before-197"],
)
def test_timely_filing_is_checked_before_every_other_check(policy, changes):
    answer = adjudicate(line(**changes), late("2028-01-01"), policy)

    assert answer.carc_codes == ["29"]


def test_a_late_line_of_a_dead_member_is_denied_29_before_13(policy):
    answer = adjudicate(line(), late("2028-01-01", death_date=START), policy)

    assert answer.carc_codes == ["29"]


def test_a_reversal_is_not_held_to_the_timely_filing_limit(policy):
    first = adjudicate(line(), ctx(), policy)
    context = late("2028-01-01", previous=PriorLine(line=line(), answer=first))

    void = adjudicate(line(reversal=True), context, policy)

    assert (void.status, void.reversal, void.allowed_units) == ("paid", True, -35)


def test_a_late_line_in_time_is_still_cut_by_the_42_day_window(policy):
    # Run-out claims count like any other: 950 units already paid in the window.
    paid = [*daily(date(2027, 6, 2), 27, 35), (date(2027, 6, 28), 5)]
    context = late("2027-07-09", member_paid_units=paid)

    answer = adjudicate(line(date_of_service=LATE_DOS), context, policy)

    assert (answer.status, answer.allowed_units, answer.denied_units) == ("partially_paid", 30, 5)
    assert answer.carc_codes == ["119"]


def test_a_late_line_in_time_is_still_cut_by_the_periods_total(policy):
    full = PeriodUnits(start=START, end=END, authorized_units=4900, paid_units=4880)

    answer = adjudicate(line(date_of_service=LATE_DOS), late("2027-07-09", periods=[full]), policy)

    assert (answer.allowed_units, answer.carc_codes) == (20, ["198"])


# --- 3. HCPCS and NDC (Section VI) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"hcpcs": "J9999"},
        {"ndc": "55513-0161-01"},
        {"ndc": "12345-0160-01"},
        {"ndc": "5551301601"},
        {"ndc": None},
    ],
    ids=["other-hcpcs", "other-product", "other-labeler", "10-digits", "no-ndc"],
)
def test_another_hcpcs_or_ndc_is_denied_15(policy, changes):
    answer = adjudicate(line(**changes), ctx(), policy)

    assert (answer.status, answer.carc_codes, answer.policy_ref) == ("denied", ["15"], "VI")


@pytest.mark.parametrize("ndc", ["55513-0160-01", "55513016001", "55513-0160-99", "55513016010"])
def test_the_ndc_matches_any_package_with_or_without_hyphens(policy, ndc):
    assert adjudicate(line(ndc=ndc, hcpcs="j9039"), ctx(), policy).status == "paid"


# --- 4. diagnosis (Appendix 1) -------------------------------------------------------------------


@pytest.mark.parametrize("codes", [["C92.00"], [], ["C83.5A"]], ids=["other", "none", "C83.5A"])
def test_a_line_without_an_appendix_1_diagnosis_is_denied_11(policy, codes):
    answer = adjudicate(line(icd10_codes=codes), ctx(), policy)

    assert (answer.status, answer.carc_codes, answer.policy_ref) == ("denied", ["11"], "Appendix 1")


def test_a_diagnosis_code_without_the_dot_is_accepted(policy):
    assert adjudicate(line(icd10_codes=["Z51.11", "C9102"]), ctx(), policy).status == "paid"


# --- 5. death ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("death", "status", "carc"),
    [(date(2026, 12, 3), "denied", ["13"]), (date(2026, 12, 4), "paid", [])],
    ids=["service-after-death", "service-on-the-day-of-death"],
)
def test_a_service_after_a_reported_death_is_denied_13(policy, death, status, carc):
    answer = adjudicate(line(), ctx(death_date=death), policy)

    assert (answer.status, answer.carc_codes) == (status, carc)


def test_death_is_checked_before_the_period(policy):
    answer = adjudicate(line(date_of_service="2027-08-01"), ctx(death_date=START), policy)

    assert answer.carc_codes == ["13"]


# --- 6. period, discontinuation and withdrawal ---------------------------------------------------


@pytest.mark.parametrize(
    ("dos", "discontinued", "status", "carc"),
    [
        ("2026-12-02", None, "denied", ["197"]),
        ("2026-12-03", None, "paid", []),
        ("2027-06-30", None, "paid", []),
        ("2027-07-01", None, "denied", ["197"]),
        ("2027-01-10", date(2027, 1, 10), "paid", []),
        ("2027-01-11", date(2027, 1, 10), "denied", ["197"]),
    ],
    ids=[
        "before-start",
        "first-day",
        "last-day",
        "after-end",
        "day-of-discontinuation",
        "after-discontinuation",
    ],
)
def test_a_service_outside_an_approved_period_or_after_discontinuation_is_denied_197(
    policy, dos, discontinued, status, carc
):
    answer = adjudicate(line(date_of_service=dos), ctx(discontinued_date=discontinued), policy)

    assert (answer.status, answer.carc_codes) == (status, carc)


@pytest.mark.parametrize(
    ("dos", "status", "carc"),
    [
        ("2027-01-09", "paid", []),
        ("2027-01-10", "denied", ["197"]),
        ("2027-02-01", "denied", ["197"]),
    ],
    ids=["day-before-the-withdrawal", "day-of-the-withdrawal", "after-the-withdrawal"],
)
def test_a_withdrawal_covers_dates_of_service_before_its_day_only(policy, dos, status, carc):
    answer = adjudicate(line(date_of_service=dos), ctx(withdrawn_on=date(2027, 1, 10)), policy)

    assert (answer.status, answer.carc_codes) == (status, carc)
    if status == "denied":
        assert "withdrawal (2027-01-10)" in answer.message


def test_a_service_in_a_renewal_period_is_inside_an_approved_period(policy):
    renewal = PeriodUnits(start=date(2027, 7, 1), end=date(2027, 12, 15), authorized_units=1960)
    context = ctx(periods=[*ctx().periods, renewal])

    assert adjudicate(line(date_of_service="2027-07-02"), context, policy).status == "paid"


# --- 7. the period's total (Section II) ----------------------------------------------------------


def test_units_over_the_periods_authorized_total_are_denied_198(policy):
    context = ctx(
        periods=[PeriodUnits(start=START, end=END, authorized_units=4900, paid_units=4890)]
    )

    answer = adjudicate(line(), context, policy)

    assert (answer.status, answer.allowed_units, answer.denied_units) == ("partially_paid", 10, 25)
    assert answer.carc_codes == ["198"]


def test_a_period_already_paid_in_full_denies_the_line_198(policy):
    context = ctx(periods=[PeriodUnits(start=START, end=END, authorized_units=980, paid_units=980)])

    answer = adjudicate(line(), context, policy)

    assert (answer.status, answer.allowed_units, answer.carc_codes) == ("denied", 0, ["198"])


# --- 8. 980 units per rolling 42 days (Section II) -----------------------------------------------

CYCLE_1 = daily(START, 28, 35)  # 980 units on days 1-28 of cycle 1 (2026-12-03 .. 2026-12-30)
CYCLE_2_DAY_1 = START + timedelta(days=42)  # 2027-01-14


@pytest.mark.parametrize(
    ("dos", "units", "status", "allowed", "carc"),
    [
        (START + timedelta(days=41), 35, "denied", 0, ["119"]),  # window day 1..42 holds 980
        (CYCLE_2_DAY_1, 35, "paid", 35, []),  # window day 2..43 holds 945
        (CYCLE_2_DAY_1, 50, "partially_paid", 35, ["119"]),
        (CYCLE_2_DAY_1 + timedelta(days=1), 70, "paid", 70, []),  # window day 3..44 holds 910
        (START + timedelta(days=69), 980, "paid", 980, []),  # first day clear of cycle 1
        (START + timedelta(days=68), 980, "partially_paid", 945, ["119"]),
    ],
    ids=[
        "last-day-of-cycle-1",
        "cycle-2-day-1",
        "cycle-2-day-1-over",
        "cycle-2-day-2",
        "70-days-on",
        "69-days-on",
    ],
)
def test_the_42_day_window_rolls_across_cycle_boundaries(policy, dos, units, status, allowed, carc):
    answer = adjudicate(
        line(date_of_service=dos.isoformat(), units=units), ctx(member_paid_units=CYCLE_1), policy
    )

    assert (answer.status, answer.allowed_units, answer.carc_codes) == (status, allowed, carc)
    assert answer.denied_units == units - allowed


def test_the_window_counts_units_paid_after_the_date_of_service_too(policy):
    later = daily(START + timedelta(days=10), 28, 35)

    answer = adjudicate(
        line(date_of_service=START.isoformat()), ctx(member_paid_units=later), policy
    )

    assert (answer.status, answer.carc_codes) == ("denied", ["119"])


def test_the_window_counts_units_of_the_members_other_authorizations(policy):
    other_case = daily(START - timedelta(days=20), 20, 45)  # 900 units before this period

    answer = adjudicate(line(units=100), ctx(member_paid_units=other_case), policy)

    assert (answer.allowed_units, answer.denied_units, answer.carc_codes) == (80, 20, ["119"])


def test_a_line_cut_by_both_limits_carries_both_codes(policy):
    context = ctx(
        periods=[PeriodUnits(start=START, end=END, authorized_units=4900, paid_units=4880)],
        member_paid_units=[(START, 970)],
    )

    answer = adjudicate(line(units=35), context, policy)

    assert (answer.status, answer.allowed_units, answer.denied_units) == ("partially_paid", 10, 25)
    assert answer.carc_codes == ["198", "119"]


def test_reversed_units_free_the_window_again(policy):
    paid = [*CYCLE_1, (START + timedelta(days=27), -35)]

    answer = adjudicate(line(date_of_service=(START + timedelta(days=41)).isoformat()), ctx(
        member_paid_units=paid), policy)  # fmt: skip

    assert (answer.status, answer.allowed_units) == ("paid", 35)


@pytest.mark.parametrize(
    ("paid", "room"),
    [([], 980), ([(date(2027, 1, 1), 980)], 0), ([(date(2026, 11, 20), 500)], 480)],
)
def test_rolling_room_is_980_minus_the_fullest_window_holding_the_day(paid, room):
    assert rolling_room(paid, date(2026, 12, 31), 980, 42) == room


def test_rolling_room_ignores_units_42_days_or_more_away():
    paid = [
        (date(2026, 12, 31) - timedelta(days=42), 980),
        (date(2026, 12, 31) + timedelta(42), 980),
    ]

    assert rolling_room(paid, date(2026, 12, 31), 980, 42) == 980


def test_discarded_drug_billed_with_jw_counts_like_administered_drug(policy):
    context = ctx(member_paid_units=[(START, 960)])

    answer = adjudicate(line(modifiers=["JW"], units=35), context, policy)

    assert (answer.allowed_units, answer.carc_codes) == (20, ["119"])


# --- reversals -----------------------------------------------------------------------------------


def paid_line(units: int = 35) -> PriorLine:
    original = line(units=units)
    return PriorLine(line=original, answer=adjudicate(original, ctx(), None))


def test_a_reversal_gives_the_paid_units_back(policy):
    answer = adjudicate(line(reversal=True), ctx(previous=paid_line()), policy)

    assert (answer.status, answer.allowed_units, answer.denied_units) == ("paid", -35, 0)
    assert answer.reversal is True


def test_a_reversal_gives_back_only_what_was_allowed(policy):
    original = line(units=50)
    first = adjudicate(original, ctx(member_paid_units=[(START, 950)]), policy)
    previous = PriorLine(line=original, answer=first)

    answer = adjudicate(line(units=50, reversal=True), ctx(previous=previous), policy)

    assert (first.allowed_units, answer.allowed_units) == (30, -30)


def test_a_replayed_reversal_gets_its_first_answer(policy):
    reversal = line(reversal=True)
    first = adjudicate(reversal, ctx(previous=paid_line()), policy)

    again = adjudicate(reversal, ctx(previous=PriorLine(line=reversal, answer=first)), policy)

    assert again == first


@pytest.mark.parametrize(
    "previous",
    [None, "other-content", "reversed-already-then-rebilled"],
)
def test_a_reversal_without_its_paid_line_is_denied_16(policy, previous):
    reversal = line(reversal=True)
    prior = None
    if previous == "other-content":
        prior = paid_line(units=70)
    elif previous == "reversed-already-then-rebilled":
        first = adjudicate(reversal, ctx(previous=paid_line()), policy)
        prior = PriorLine(line=reversal, answer=first)
        reversal = line()  # the original line sent again after its void

    answer = adjudicate(reversal, ctx(previous=prior), policy)

    assert (answer.status, answer.allowed_units, answer.carc_codes) == ("denied", 0, ["16"])


def test_answers_keep_the_contract_status_values():
    assert set(ClaimAnswer.model_fields["status"].annotation.__args__) == {
        "paid",
        "partially_paid",
        "denied",
    }
