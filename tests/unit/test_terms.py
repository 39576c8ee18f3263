"""Section I: periods, renewal periods, cycle plans, the renewal window; Section II units."""

from __future__ import annotations

from datetime import date

import pytest

from domain.terms import (
    cycle_plan,
    initial_authorization,
    renewal_authorization,
    renewal_window_opens,
)
from tests.unit.factories import request


@pytest.mark.parametrize(
    ("received_at", "requested", "start"),
    [
        ("2026-12-01T09:00:00Z", "2026-12-03", date(2026, 12, 3)),
        ("2026-12-01T09:00:00Z", "2026-11-15", date(2026, 12, 1)),
        ("2026-12-01T09:00:00Z", None, date(2026, 12, 1)),
        ("2026-12-01T23:30:00-08:00", "2026-11-30", date(2026, 12, 1)),
    ],
    ids=["requested", "before-receipt", "not-stated", "receipt-day-in-senders-zone"],
)
def test_the_initial_period_starts_on_the_requested_start_never_before_receipt(
    received_at, requested, start
):
    req = request(received_at=received_at, service__requested_start=requested)

    assert req.period_start() == start


@pytest.mark.parametrize(
    ("track", "days", "end", "cycles", "units"),
    [
        ("relapsed_refractory", 210, date(2027, 6, 30), 5, 4900),
        ("relapsed_refractory_aall1331", 168, date(2027, 5, 19), 3, 2940),
        ("frontline_induction", 28, date(2026, 12, 30), 1, 980),
        ("consolidation", 210, date(2027, 6, 30), 5, 4900),
        ("mrd_positive", 168, date(2027, 5, 19), 4, 3920),
        ("maintenance", 168, date(2027, 5, 19), 1, 980),
        ("infant_interfant", 28, date(2026, 12, 30), 1, 980),
    ],
)
def test_initial_periods_of_section_i(policy, track, days, end, cycles, units):
    auth = initial_authorization(policy, track, date(2026, 12, 3))

    assert (auth.days, auth.end, auth.cycles, auth.authorized_units) == (days, end, cycles, units)


@pytest.mark.parametrize(
    ("track", "used", "first_cycle", "cycles", "units", "renewable_after"),
    [
        ("relapsed_refractory", 0, 6, 2, 1960, True),
        ("relapsed_refractory", 1, 8, 2, 1960, False),
        ("maintenance", 0, 2, 1, 980, True),
        ("maintenance", 3, 5, 1, 980, False),
    ],
)
def test_renewal_periods_start_the_day_after_and_carry_the_next_cycles(
    policy, track, used, first_cycle, cycles, units, renewable_after
):
    auth = renewal_authorization(policy, track, date(2027, 6, 30), used)

    assert (auth.start, auth.end, auth.days) == (date(2027, 7, 1), date(2027, 12, 15), 168)
    assert (auth.first_cycle, auth.cycles, auth.authorized_units) == (first_cycle, cycles, units)
    assert auth.renewable is renewable_after
    assert auth.kind == "renewal"


@pytest.mark.parametrize(
    ("track", "used"),
    [
        ("relapsed_refractory", 2),
        ("maintenance", 4),
        ("consolidation", 0),
        ("mrd_positive", 0),
        ("frontline_induction", 0),
        ("relapsed_refractory_aall1331", 0),
        ("infant_interfant", 0),
    ],
)
def test_no_renewal_beyond_the_maximum_or_on_a_non_renewable_track(policy, track, used):
    assert renewal_authorization(policy, track, date(2027, 6, 30), used) is None


def test_cycles_run_back_to_back_from_the_period_start(policy):
    auth = initial_authorization(policy, "relapsed_refractory", date(2026, 12, 3))

    plan = cycle_plan(policy, "relapsed_refractory", auth)

    assert [(c.cycle, c.start, c.end, c.phase) for c in plan] == [
        (1, date(2026, 12, 3), date(2027, 1, 13), "induction"),
        (2, date(2027, 1, 14), date(2027, 2, 24), "induction"),
        (3, date(2027, 2, 25), date(2027, 4, 7), "consolidation"),
        (4, date(2027, 4, 8), date(2027, 5, 19), "consolidation"),
        (5, date(2027, 5, 20), date(2027, 6, 30), "consolidation"),
    ]


def test_renewal_cycles_of_relapsed_refractory_are_84_days(policy):
    auth = renewal_authorization(policy, "relapsed_refractory", date(2027, 6, 30), 0)

    plan = cycle_plan(policy, "relapsed_refractory", auth)

    assert [(c.cycle, c.start, c.cycle_days, c.phase) for c in plan] == [
        (6, date(2027, 7, 1), 84, "continued_therapy"),
        (7, date(2027, 9, 23), 84, "continued_therapy"),
    ]
    assert plan[-1].end == auth.end


def test_the_renewal_window_opens_30_days_before_the_last_day(policy):
    assert renewal_window_opens(policy, date(2027, 6, 30)) == date(2027, 5, 31)
