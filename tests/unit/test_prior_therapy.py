"""Section I, "Prior therapy": prior cycles shape the grant (POLICY.md's worked examples).

With ``p`` prior cycles (the larger of the request's count and the system's record):
``p`` at the track's total is not met; otherwise the grant continues the numbering at
``p + 1`` with each cycle's own length, phase and doses, as many as fit in the period
(never more than it normally holds nor than ``total - p``), 980 units a cycle granted,
and the track stays renewable only while cycles remain after the period.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.policy import Policy, Track
from domain.terms import cycle_plan, initial_authorization, renewal_authorization
from tests.unit.factories import born, request

STEP_UP = [(1, 7, 9), (8, 28, 28)]
FLAT_28 = [(1, 28, 28)]

# POLICY.md Section I worked examples (relapsed/refractory; initial 210 d, renewal 168 d),
# plus its mrd_positive and maintenance examples:
# base, track, prior, cycles granted, units, renewable, renewals left, later renewals'
# cycles, (first cycle's length, its daily doses as (from, to, mcg))
WORKED_EXAMPLES = [
    ("adult_rr", "relapsed_refractory", 0, [1, 2, 3, 4, 5], 4900, True, 2, [[6, 7], [8, 9]],
     (42, STEP_UP)),
    ("adult_rr", "relapsed_refractory", 3, [4, 5, 6], 2940, True, 2, [[7, 8], [9]],
     (42, FLAT_28)),
    ("adult_rr", "relapsed_refractory", 5, [6, 7], 1960, True, 1, [[8, 9]], (84, FLAT_28)),
    ("adult_rr", "relapsed_refractory", 8, [9], 980, False, 0, [], (84, FLAT_28)),
    ("adult_mrd", "mrd_positive", 1, [2, 3, 4], 2940, False, 0, [], (42, FLAT_28)),
    ("adult_maint_ph_neg", "maintenance", 2, [3], 980, True, 2, [[4], [5]], (42, FLAT_28)),
]  # fmt: skip
IDS = [f"{row[1]}-prior-{row[2]}" for row in WORKED_EXAMPLES]


@pytest.mark.parametrize(
    ("base", "track", "prior", "granted", "units", "renewable", "renewals", "later", "first"),
    WORKED_EXAMPLES,
    ids=IDS,
)
def test_the_grant_continues_the_numbering_after_prior_cycles_as_the_worked_examples_show(
    evaluate, policy, base, track, prior, granted, units, renewable, renewals, later, first
):
    decision = evaluate(request(base, therapy__prior_blinatumomab_cycles=prior))

    assert (decision.determination, decision.track) == ("approve", track)
    auth = decision.authorization
    assert (auth.first_cycle, auth.last_cycle) == (granted[0], granted[-1])
    assert auth.cycles == len(granted)
    assert auth.authorized_units == units
    assert (auth.renewable, auth.max_renewals) == (renewable, renewals)
    assert auth.days == policy.tracks[track].initial_days  # the period keeps its length
    assert [c.cycle for c in decision.dosing.cycles] == granted
    cycle_days, doses = first
    first_planned = decision.dosing.cycles[0]
    assert first_planned.cycle_days == cycle_days
    assert [(d.from_day, d.to_day, d.mcg) for d in first_planned.daily_doses] == doses


@pytest.mark.parametrize(
    ("base", "track", "prior", "granted", "units", "renewable", "renewals", "later", "first"),
    WORKED_EXAMPLES,
    ids=IDS,
)
def test_each_renewal_covers_the_next_cycles_that_fit_after_the_last_granted(
    policy, base, track, prior, granted, units, renewable, renewals, later, first
):
    auth = initial_authorization(policy, track, date(2026, 12, 3), prior_cycles=prior)
    used, covered = 0, []
    while (
        nxt := renewal_authorization(policy, track, auth.end, used, auth.last_cycle)
    ) is not None:
        covered.append(list(range(nxt.first_cycle, nxt.last_cycle + 1)))
        assert nxt.authorized_units == 980 * nxt.cycles
        assert nxt.renewable is (used + 1 < len(later))
        assert nxt.max_renewals == len(later)
        auth, used = nxt, used + 1

    assert covered == later
    assert auth.last_cycle == policy.tracks[track].total_cycles


def test_the_period_keeps_its_length_whatever_the_prior_cycles(policy):
    ends = {
        initial_authorization(policy, "relapsed_refractory", date(2026, 12, 3), p).end
        for p in range(9)
    }

    assert ends == {date(2027, 6, 30)}


def test_three_prior_cycles_grant_4_to_6_because_cycle_7_would_end_on_day_252(policy):
    auth = initial_authorization(policy, "relapsed_refractory", date(2026, 12, 3), prior_cycles=3)

    plan = cycle_plan(policy, "relapsed_refractory", auth)

    assert [(c.cycle, c.cycle_days, c.phase) for c in plan] == [
        (4, 42, "consolidation"),
        (5, 42, "consolidation"),
        (6, 84, "continued_therapy"),
    ]
    assert plan[-1].end == auth.start + timedelta(days=168 - 1)
    assert plan[-1].end + timedelta(days=84) > auth.end  # cycle 7 (84 d) would end on day 252


def test_nine_prior_relapsed_refractory_cycles_do_not_meet_the_criteria(evaluate):
    decision = evaluate(request("adult_rr", therapy__prior_blinatumomab_cycles=9))

    assert decision.determination == "deny"
    assert decision.authorization is None
    assert [r.policy_ref for r in decision.reasons if r.code == "duration_exceeded"] == ["I"]


def test_no_grant_is_made_for_a_track_whose_cycles_are_all_given(policy):
    with pytest.raises(ValueError, match="no cycle"):
        initial_authorization(policy, "relapsed_refractory", date(2026, 12, 3), prior_cycles=9)


@pytest.mark.parametrize(
    ("stated", "recorded", "first"),
    [(0, 3, 4), (5, 3, 6), (None, 0, None)],
    ids=["the-systems-record-is-larger", "the-requests-count-is-larger", "not-stated-pends"],
)
def test_the_larger_of_the_requests_count_and_the_systems_record_counts(
    evaluate, stated, recorded, first
):
    decision = evaluate(
        request("adult_rr", therapy__prior_blinatumomab_cycles=stated), prior_cycles=recorded
    )

    if first is None:
        assert decision.determination == "pend"
        assert decision.missing_facts == ["therapy.prior_blinatumomab_cycles"]
    else:
        assert decision.authorization.first_cycle == first


def test_the_terms_reason_names_the_cycles_granted_and_the_prior_cycles_counted(evaluate):
    decision = evaluate(request("adult_rr", therapy__prior_blinatumomab_cycles=8))

    terms = next(r for r in decision.reasons if r.code == "authorization_terms")
    assert terms.policy_ref == "I"
    assert "cycle 9 of 9" in terms.text
    assert "8 prior cycle(s) counted" in terms.text
    assert "not renewable" in terms.text


def test_a_would_be_grant_sent_to_review_follows_the_prior_cycles_too(evaluate):
    # A 20-year-old on pediatric Ph-like single-agent consolidation goes to review (AYA note).
    decision = evaluate(
        request("ped_cons_ph_like_single", {"member.date_of_birth": born(20),
                                            "therapy.prior_blinatumomab_cycles": 2})
    )  # fmt: skip

    assert (decision.determination, decision.track) == ("review", "consolidation")
    auth = decision.authorization
    assert (auth.first_cycle, auth.cycles, auth.authorized_units) == (3, 3, 2940)


def _track(policy: Policy, track_id: str, **changes) -> dict:
    data = policy.model_dump(by_alias=True, mode="json")
    data["tracks"][track_id].update(changes)
    return data


def test_the_policy_data_refuses_a_cycle_longer_than_the_period_that_may_grant_it(policy):
    data = _track(
        policy,
        "relapsed_refractory",
        renewal={"period_days": 80, "max_renewals": 2, "cycles_per_renewal": 2},
    )

    with pytest.raises(ValueError, match="cycle 9 does not fit a renewal period"):
        Policy.model_validate(data)


def test_every_track_can_grant_any_of_its_cycles_first(policy):
    tracks: dict[str, Track] = policy.tracks
    for track_id, track in tracks.items():
        for prior in range(track.total_cycles):
            auth = initial_authorization(policy, track_id, date(2026, 12, 3), prior)
            assert auth.cycles >= 1, (track_id, prior)
