"""The terms of a track (policy Section I; units Section II).

Periods, their cycles and their units, all read from the track's data:
``start .. start + days - 1`` inclusive; the initial period starts on the
requested start, never before the day of receipt; a renewal period starts
the day after the current one ends; the renewal window opens ``end - 30``.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel

from domain.decision import Authorization
from domain.policy import Policy, Track
from domain.request import PARequest


class PlannedCycle(BaseModel):
    """One cycle of a period: its number, phase and dates (Section I)."""

    cycle: int
    phase: str
    cycle_days: int
    start: date
    end: date


def initial_start(request: PARequest) -> date:
    """Section I, "When a period starts": the requested start, or the day of receipt
    if that is later (no coverage before receipt). A later decision does not move it."""
    return request.period_start()


def period_end(start: date, days: int) -> date:
    """The last day of a period of ``days`` days starting ``start``."""
    return start + timedelta(days=days - 1)


def period_units(policy: Policy, cycles: int) -> int:
    """Section II: a period pays at most 980 x its cycles."""
    return policy.units.units_per_cycle * cycles


def renewal_window_opens(policy: Policy, end: date) -> date:
    """Section IV: the renewal window opens ``end - 30`` (inclusive)."""
    return end - timedelta(days=policy.renewal.window_days_before_end)


def first_cycle_of_renewal(track: Track, renewals_used: int) -> int:
    """The number of the first cycle of renewal ``renewals_used + 1``."""
    per = track.renewal.cycles_per_renewal if track.renewal else 0
    return track.initial_cycles + renewals_used * per + 1


def initial_authorization(policy: Policy, track_id: str, start: date) -> Authorization:
    """Section I: the initial period of ``track_id`` from ``start``."""
    track = policy.tracks[track_id]
    return Authorization(
        start=start,
        end=period_end(start, track.initial_days),
        days=track.initial_days,
        cycles=track.initial_cycles,
        renewable=track.renewal is not None,
        renewal_period_days=track.renewal.period_days if track.renewal else None,
        max_renewals=track.renewal.max_renewals if track.renewal else 0,
        max_units_per_42_days=policy.units.max_units_per_window,
        authorized_units=period_units(policy, track.initial_cycles),
        first_cycle=1,
        kind="initial",
    )


def renewal_authorization(
    policy: Policy, track_id: str, current_end: date, renewals_used: int
) -> Authorization | None:
    """Section I: renewal ``renewals_used + 1`` of ``track_id``, or None if none is left."""
    track = policy.tracks[track_id]
    renewal = track.renewal
    if renewal is None or renewals_used >= renewal.max_renewals:
        return None
    start = current_end + timedelta(days=1)
    return Authorization(
        start=start,
        end=period_end(start, renewal.period_days),
        days=renewal.period_days,
        cycles=renewal.cycles_per_renewal,
        renewable=renewals_used + 1 < renewal.max_renewals,
        renewal_period_days=renewal.period_days,
        max_renewals=renewal.max_renewals,
        max_units_per_42_days=policy.units.max_units_per_window,
        authorized_units=period_units(policy, renewal.cycles_per_renewal),
        first_cycle=first_cycle_of_renewal(track, renewals_used),
        kind="renewal",
    )


def cycle_plan(policy: Policy, track_id: str, authorization: Authorization) -> list[PlannedCycle]:
    """The cycles of one period, back to back from its start (Section I)."""
    track = policy.tracks[track_id]
    cycles: list[PlannedCycle] = []
    start = authorization.start
    first = authorization.first_cycle
    for number in range(first, first + authorization.cycles):
        group = track.cycle_group(number)
        end = start + timedelta(days=group.cycle_days - 1)
        cycles.append(
            PlannedCycle(
                cycle=number, phase=group.phase, cycle_days=group.cycle_days, start=start, end=end
            )
        )
        start = end + timedelta(days=1)
    return cycles
