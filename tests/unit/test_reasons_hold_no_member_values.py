"""Reasons never carry a member's values: an age criterion says the age, not the date of birth.

Reasons travel far: into notices, the log channel, the webhook, the case view.
So a not-met age criterion reads ``not met (age 10, below 18)``, computed at the
period start as the criterion itself computes it, and no name, member id or
date of birth appears in any reason.
"""

from __future__ import annotations

from datetime import date

import pytest

from activities.notice_text import render
from domain.engine import age_reason
from domain.operators import age_on
from domain.renewal import RenewalInput, decide_renewal
from tests.unit.factories import START, born, request

DOB = "2016-01-01"
MEMBER = {
    "member.member_id": "M-77812345",
    "member.first_name": "Josephine",
    "member.last_name": "Quillfeather",
    "member.date_of_birth": DOB,
}
PHI = ("M-77812345", "Josephine", "Quillfeather", DOB, "2016")


def _underage(**changes):
    maintenance = {
        "therapy.setting": "maintenance",
        "diagnosis.relapsed_or_refractory": False,
        "diagnosis.complete_remission": "first",
    }
    return request("adult_rr", changes={**maintenance, **MEMBER, **changes})


def _assert_no_phi(text: str) -> None:
    for value in PHI:
        assert value not in text, f"{value!r} in {text!r}"


def test_an_underage_denial_names_the_age_at_the_period_start_not_the_date_of_birth(evaluate):
    decision = evaluate(_underage())

    assert decision.determination == "deny"
    texts = [r.text for r in decision.reasons]
    assert "A0 (Patient is at least 18 years of age): not met (age 10, below 18)." in texts
    for text in texts:
        _assert_no_phi(text)


def test_the_denial_notice_of_an_underage_case_holds_no_member_value(evaluate, policy):
    decision = evaluate(_underage())
    payload = {
        "reasons": [r.model_dump(mode="json") for r in decision.reasons],
        "appeal_deadline": "2027-05-30",
        "appeal_window_days": 180,
    }

    text = render("denial", payload, "pa-REQ-1", policy=policy)

    assert "age 10, below 18" in text
    _assert_no_phi(text)


def test_an_infant_under_a_month_is_told_the_age_in_months(evaluate):
    dob = born(days=-10)
    decision = evaluate(request("adult_rr", changes={**MEMBER, "member.date_of_birth": dob}))

    texts = " ".join(r.text for r in decision.reasons)
    assert "not met (age 0 months, below 1 month)" in texts
    assert dob not in texts


def test_a_renewal_reason_shows_clinical_facts_but_never_member_values():
    base = request("adult_rr", changes=MEMBER)
    end = date(2027, 6, 30)
    decision = decide_renewal(
        RenewalInput(
            request=base.model_copy(
                update={"diagnosis": base.diagnosis.model_copy(update={"b_cell_precursor": False})}
            ),
            track="relapsed_refractory",
            renewals_used=0,
            period_start=START,
            period_end=end,
            as_of=date(2027, 6, 10),
        )
    )

    assert decision.determination == "deny"
    texts = [r.text for r in decision.reasons]
    assert any("no longer met (stated: False)" in t for t in texts), texts
    for text in texts:
        _assert_no_phi(text)


@pytest.mark.parametrize(
    ("op", "spec", "dob", "expected"),
    [
        ("age_at_least", {"years": 18}, date(2016, 1, 1), "age 10, below 18"),
        ("age_at_least", {"years": 18}, date(2008, 12, 4), "age 17, below 18"),
        ("age_below", {"years": 18}, date(1990, 1, 1), "age 36, 18 or older"),
        ("age_at_least", {"months": 1}, date(2026, 11, 20), "age 0 months, below 1 month"),
        ("age_below", {"months": 1}, date(2026, 10, 1), "age 2 months, 1 month or older"),
        # HIPAA Safe Harbor: ages over 89 are one category.
        ("age_below", {"years": 18}, date(1930, 1, 1), "age 90 or older, 18 or older"),
    ],
)
def test_age_reasons_say_the_age_and_the_bound(op, spec, dob, expected) -> None:
    assert age_reason(op, spec, age_on(dob, START)) == expected
