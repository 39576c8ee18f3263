"""The terms of a track (policy Section I; units Section II).

Periods, their cycles and their units, all read from the track's data:
``start .. start + days - 1`` inclusive; the initial period starts on the
requested start, never before the day of receipt; a renewal period starts
the day after the current one ends; the renewal window opens ``end - 30``.

Prior therapy (Section I): prior cycles count against the track's total and
the grant continues the numbering. A period covers the next cycles of the
track that fit back to back in its days (each cycle's own length), at most
as many as the period normally holds and none past the total; its units are
units_per_cycle x the cycles granted; a renewal continues from the last cycle granted.
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


def period_end(start: date, days: int) -> date:
    """The last day of a period of ``days`` days starting ``start``."""
    return start + timedelta(days=days - 1)


def period_units(policy: Policy, cycles: int) -> int:
    """Section II: a period pays at most ``units_per_cycle`` x its cycles."""
    return policy.units.units_per_cycle * cycles


def renewal_window_opens(policy: Policy, end: date) -> date:
    """Section IV: the renewal window opens ``end - 30`` (inclusive)."""
    return end - timedelta(days=policy.renewal.window_days_before_end)


def counted_prior_cycles(request: PARequest, recorded: int = 0) -> int:
    """Section I, "Prior therapy": the request's count or the system's own record of the
    member's earlier cycles, whichever is larger (a count not stated counts as none here;
    the criteria tree reads it as unknown)."""
    return max(request.therapy.prior_blinatumomab_cycles or 0, recorded)


def cycles_that_fit(track: Track, first: int, days: int, most: int) -> int:
    """Section I, "Prior therapy": how many of the track's cycles ``first, first + 1, ...``
    run back to back from a period's start inside its ``days`` days, each with its own
    length from the track's data; at most ``most`` and none past the track's total."""
    count, used = 0, 0
    for number in range(first, min(first + most, track.total_cycles + 1)):
        used += track.cycle_group(number).cycle_days
        if used > days:
            break
        count += 1
    return count


def renewals_left(track: Track, next_cycle: int, allowed: int) -> int:
    """Section I: the renewals still needed to cover cycles ``next_cycle`` .. total, each
    covering the next cycles that fit in a renewal period (at most ``cycles_per_renewal``),
    and never more than ``allowed``. 0 when no cycle is left or the track is not renewable."""
    renewal = track.renewal
    if renewal is None:
        return 0
    count = 0
    while next_cycle <= track.total_cycles and count < allowed:
        covered = cycles_that_fit(
            track, next_cycle, renewal.period_days, renewal.cycles_per_renewal
        )
        if covered == 0:
            break
        next_cycle += covered
        count += 1
    return count


def first_cycle_of_renewal(track: Track, renewals_used: int) -> int:
    """The first cycle of renewal ``renewals_used + 1`` when the case's last granted cycle
    is not known: a grant that started at cycle 1 and renewals that each held
    ``cycles_per_renewal`` cycles (renewal requests made before grants followed prior cycles)."""
    per = track.renewal.cycles_per_renewal if track.renewal else 0
    return track.initial_cycles + renewals_used * per + 1


def initial_authorization(
    policy: Policy, track_id: str, start: date, prior_cycles: int = 0
) -> Authorization:
    """Section I: the initial period of ``track_id`` from ``start``, after ``prior_cycles``.

    "Prior therapy": the grant continues the numbering at cycle ``p + 1`` and covers the
    cycles that fit, back to back, in the initial period's days (never more than the
    period normally holds, ``initial_cycles``, nor than ``total - p``); ``units_per_cycle`` per
    cycle granted (Section II); the period keeps its length. Renewable, and for how many
    renewals, only as far as cycles remain after it. ``prior_cycles`` at or past the
    track's total is an error: the criteria are not met ("duration exceeded").
    """
    track = policy.tracks[track_id]
    if not 0 <= prior_cycles < track.total_cycles:
        raise ValueError(
            f"{prior_cycles} prior cycles leave no cycle of {track_id} "
            f"(total {track.total_cycles}) to authorize"
        )
    first = prior_cycles + 1
    cycles = cycles_that_fit(track, first, track.initial_days, track.initial_cycles)
    renewals = renewals_left(
        track, first + cycles, track.renewal.max_renewals if track.renewal else 0
    )
    return Authorization(
        start=start,
        end=period_end(start, track.initial_days),
        days=track.initial_days,
        cycles=cycles,
        renewable=renewals > 0,
        renewal_period_days=track.renewal.period_days if track.renewal and renewals else None,
        max_renewals=renewals,
        max_units_per_42_days=policy.units.max_units_per_window,
        authorized_units=period_units(policy, cycles),
        first_cycle=first,
        kind="initial",
    )


def renewal_authorization(
    policy: Policy,
    track_id: str,
    current_end: date,
    renewals_used: int,
    last_cycle: int | None = None,
) -> Authorization | None:
    """Section I: renewal ``renewals_used + 1`` of ``track_id``, or None if none is left.

    It covers the cycles after ``last_cycle`` (the last cycle granted so far) that fit,
    back to back, in the renewal period (at most ``cycles_per_renewal``, none past the
    track's total); None when no cycle or no renewal is left. ``max_renewals`` is what
    the case can have in all: those used, this one and those still needed after it.
    """
    track = policy.tracks[track_id]
    renewal = track.renewal
    if renewal is None or renewals_used >= renewal.max_renewals:
        return None
    if last_cycle is None:
        last_cycle = first_cycle_of_renewal(track, renewals_used) - 1
    first = last_cycle + 1
    cycles = cycles_that_fit(track, first, renewal.period_days, renewal.cycles_per_renewal)
    if cycles == 0:
        return None
    left = renewals_left(track, first + cycles, renewal.max_renewals - renewals_used - 1)
    start = current_end + timedelta(days=1)
    return Authorization(
        start=start,
        end=period_end(start, renewal.period_days),
        days=renewal.period_days,
        cycles=cycles,
        renewable=left > 0,
        renewal_period_days=renewal.period_days if left else None,
        max_renewals=renewals_used + 1 + left,
        max_units_per_42_days=policy.units.max_units_per_window,
        authorized_units=period_units(policy, cycles),
        first_cycle=first,
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
