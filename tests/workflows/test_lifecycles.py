"""Whole cases, one per track (policy Section I), as `priorauth simulate` runs them.

The scenarios are examples/scenarios/<track>_full.json (examples/make_scenarios.py):
claims on the treatment days of every allowed cycle, a response assessment and a
renewal request in each renewal window (relapsed_refractory_prior3_full: the same
after 3 prior cycles, Section I "Prior therapy"). Each case ends `completed` when its last
allowed period ends; the non-renewable tracks refuse the renewal.
"""

from __future__ import annotations

import pytest

# track: (cycles, renewals, periods, units paid)
NON_RENEWABLE = {
    "relapsed_refractory_aall1331": (3, 2940),
    "frontline_induction": (1, 980),
    "consolidation": (5, 4900),
    "mrd_positive": (4, 3920),
    "infant_interfant": (1, 980),
}


def statuses(run) -> list[str]:
    return [c.status for c in run.result.status_changes]


def kinds(run) -> list[str]:
    return [n.kind for n in run.result.notifications]


async def test_relapsed_refractory_lives_78_weeks_with_two_renewals_and_nine_cycles(cases):
    run = await cases.scenario("relapsed_refractory_full")
    result = run.result
    print(
        f"\nrelapsed/refractory, {len(result.claims)} claim lines over "
        f"{result.status_changes[-1].day} days: {run.wall_seconds:.1f} s wall time, "
        f"history events per run {run.history_events}"
    )
    assert result.status == "completed"
    assert result.track == "relapsed_refractory"
    assert result.renewals_used == 2
    assert [p.kind for p in result.periods] == ["initial", "renewal", "renewal"]
    assert [c.cycle for c in result.cycles] == list(range(1, 10))
    assert [c.phase for c in result.cycles] == ["induction"] * 2 + ["consolidation"] * 3 + [
        "continued_therapy"
    ] * 4
    assert len(result.claims) == 252
    assert all(c.status == "paid" for c in result.claims)
    assert result.units_paid == 9 * 980
    assert statuses(run) == [
        "received",
        "active",
        "renewal_window",
        "active",
        "renewal_window",
        "active",
        "completed",
    ]
    assert kinds(run).count("renewal_approved") == 2
    # Renewed the day after each window opened: no reminders were due.
    assert "renewal_reminder" not in kinds(run)
    # The third request, in the last period, is refused: no renewals are left.
    assert [r.action for r in result.refusals] == ["renewal_request"]
    assert len(run.history_events) == 3
    assert max(run.history_events) < 10_000


async def test_relapsed_refractory_after_3_prior_cycles_gives_cycles_4_to_9_then_completes(
    cases,
):
    run = await cases.scenario("relapsed_refractory_prior3_full")
    result = run.result
    assert result.status == "completed"
    assert result.renewals_used == 2
    assert [p.kind for p in result.periods] == ["initial", "renewal", "renewal"]
    assert [c.cycle for c in result.cycles] == [4, 5, 6, 7, 8, 9]
    assert [c.phase for c in result.cycles] == ["consolidation"] * 2 + ["continued_therapy"] * 4
    assert all(c.status == "paid" for c in result.claims)
    assert result.units_paid == 6 * 980
    # The third request, in the last period, is refused: cycle 9 was the last.
    assert [r.action for r in result.refusals] == ["renewal_request"]
    assert kinds(run)[-1] == "completed"


async def test_maintenance_is_renewed_four_times_then_completed(cases):
    run = await cases.scenario("maintenance_full")
    result = run.result
    assert result.status == "completed"
    assert result.renewals_used == 4
    assert len(result.periods) == 5
    assert [c.cycle for c in result.cycles] == [1, 2, 3, 4, 5]
    assert {c.phase for c in result.cycles} == {"maintenance"}
    assert result.units_paid == 5 * 980
    assert kinds(run).count("renewal_approved") == 4
    assert kinds(run)[-1] == "completed"
    assert len(run.history_events) == 5


@pytest.mark.parametrize("track", sorted(NON_RENEWABLE))
async def test_non_renewable_track_refuses_renewal_and_completes(cases, track):
    cycles, units = NON_RENEWABLE[track]
    run = await cases.scenario(f"{track}_full")
    result = run.result
    assert result.status == "completed"
    assert result.track == track
    assert result.renewals_used == 0
    assert len(result.periods) == 1
    assert len(result.cycles) == cycles
    assert result.units_paid == units
    assert [r.action for r in result.refusals] == ["renewal_request"]
    assert "renewal_refused" in kinds(run)
    assert "renewal_window" not in statuses(run)
    assert statuses(run) == ["received", "active", "completed"]


@pytest.mark.parametrize(
    ("name", "status", "statuses"),
    [
        ("pend_then_info", "active", ["received", "pended", "active"]),
        (
            "review_deny_appeal",
            "active",
            ["received", "in_review", "denied", "appealed", "in_review", "active"],
        ),
        (
            "renewal_too_early_then_expiry",
            "expired",
            ["received", "active", "renewal_window", "expired"],
        ),
        ("withdrawn", "withdrawn", ["received", "active", "withdrawn"]),
    ],
)
async def test_example_scenario_ends_as_documented(cases, name, status, statuses):
    run = await cases.scenario(name)
    assert run.result.status == status
    assert [c.status for c in run.result.status_changes] == statuses
