"""The facts a decision row keeps (domain/decision_facts.py): no member identity, and the
same outcome when re-decided, under the policy in force and under a draft."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from domain.decision_facts import age_at, facts_of, request_of, stand_in_birth_date
from domain.engine import choose, decide
from domain.operators import age_on
from domain.policy_impact import ImpactAnalysis
from tests.unit.factories import BASES, START, born, request
from tests.unit.policy_drafts import as_policy, mrd_draft

FIRST, LAST, MEMBER_ID = "Euphrosyne", "Oakenshield", "MBR-Q9X4T7"


def _phi_request(base: str = "adult_rr", **changes: object):
    dob = BASES[base].get("member.date_of_birth", born(46))
    return request(
        base,
        {
            "member.first_name": FIRST,
            "member.last_name": LAST,
            "member.member_id": MEMBER_ID,
            "member.date_of_birth": dob,
            **changes,
        },
    )


def test_the_stored_facts_hold_no_name_member_id_or_date_of_birth():
    req = _phi_request()
    text = json.dumps(facts_of(req))

    dob = req.member.date_of_birth
    assert dob is not None
    for phi in (FIRST, LAST, MEMBER_ID, dob.isoformat(), dob.strftime("%Y%m%d")):
        assert phi not in text
    member = facts_of(req)["member"]
    assert set(member) == {"state", "age_at_period_start"}
    assert member["age_at_period_start"] == {"years": 46, "months": 46 * 12}


def test_ages_over_89_are_kept_as_90():
    assert age_at(date(1920, 5, 1), START) == {"years": 90, "months": 1080}
    assert age_at(date(1936, 12, 4), START) == {"years": 89, "months": 1079}


@pytest.mark.parametrize("base", sorted(BASES))
def test_re_deciding_the_stored_facts_gives_the_decision_the_request_got(policy, base):
    req = _phi_request(base)
    again = request_of(json.loads(json.dumps(facts_of(req))))

    assert again.member.member_id != MEMBER_ID
    assert again.member.first_name is None and again.member.last_name is None
    original = decide(req, policy, as_of=req.received_on)
    redecided = decide(again, policy, as_of=req.received_on)
    assert redecided.model_dump(exclude={"trace", "reasons"}) == original.model_dump(
        exclude={"trace", "reasons"}
    )
    assert choose(again, policy).determination == choose(req, policy).determination


@pytest.mark.parametrize(
    "dob",
    [
        born(18),  # 18 on the period start: an adult
        born(18, days=1),  # 18 the day after: still a child
        born(30, days=1),  # AYA upper edge
        born(0, 1),  # one month exactly
        born(0, 1, days=1),  # one month the day after
    ],
)
def test_age_criteria_see_the_same_age_on_their_edges(policy, dob):
    req = _phi_request("adult_rr", **{"member.date_of_birth": dob})
    again = request_of(facts_of(req))

    assert choose(again, policy).determination == choose(req, policy).determination
    start = req.period_start()
    assert req.member.date_of_birth is not None and again.member.date_of_birth is not None
    assert age_on(again.member.date_of_birth, start) == age_on(req.member.date_of_birth, start)


def test_the_stand_in_birth_date_gives_the_same_whole_years_and_months():
    rng = random.Random(17)
    days = [date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 31), date(2026, 12, 3)]
    days += [date(2024, 1, 1) + timedelta(days=rng.randrange(1500)) for _ in range(200)]
    for day in days:
        for _ in range(50):
            dob = day - timedelta(days=rng.randrange(0, 33000))
            age = age_at(dob, day)
            stand_in = stand_in_birth_date(age["years"], age["months"], day)
            assert age_on(stand_in, day) == (age["years"], age["months"]), (dob, day)


def test_impact_from_the_stored_facts_lists_what_it_lists_from_the_request(policy):
    analysis = ImpactAnalysis(policy, as_policy(mrd_draft(0.5)))
    child = {"member.date_of_birth": born(17, 11)}
    for changes in ({"diagnosis.mrd_percent": 0.3}, {"diagnosis.mrd_percent": 0.3, **child}):
        req = _phi_request("adult_mrd", **changes)
        direct = analysis.compare("pa-X", req)
        stored = analysis.compare("pa-X", request_of(facts_of(req)))
        assert (direct is None) == (stored is None)
        if direct is not None and stored is not None:
            assert (stored.kinds, stored.node, stored.criteria) == (
                direct.kinds,
                direct.node,
                direct.criteria,
            )
