"""Dosing plans (policy Section V).

Body-surface area by Mosteller, ``sqrt(height_cm x weight_kg / 3600)``; doses
from the unrounded BSA, rounded half-up to 2 decimals (mcg) and capped at the
row's maximum; ``bsa_m2`` reported to 2 decimals. At or above the weight band
(45 kg) the flat row applies, below it the mcg/m2 row; ``any_weight`` rows
ignore weight.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.decision import DailyDose, Dosing, DosingCycle
from domain.policy import DoseSchedule, DosingRow, Policy

_CENT = Decimal("0.01")


def mosteller_bsa(height_cm: float, weight_kg: float) -> float:
    """Mosteller body-surface area in m2 (unrounded)."""
    return math.sqrt(height_cm * weight_kg / 3600.0)


def round2(value: float) -> float | int:
    """Half-up to 2 decimals on the decimal reading of ``value``; whole numbers as int."""
    hundredths = value * 100
    if abs(hundredths - math.floor(hundredths) - 0.5) > 1e-6:  # not a tie: plain rounding
        rounded = round(value, 2)
        return int(rounded) if rounded == int(rounded) else rounded
    exact = Decimal(repr(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def _row(rows: list[DosingRow], cycle: int) -> DosingRow:
    for row in rows:
        if row.cycles.from_ <= cycle <= row.cycles.to:
            return row
    raise KeyError(f"no dosing row for cycle {cycle}")


def _schedule(row: DosingRow, weight_kg: float | None, band: float) -> DoseSchedule | None:
    if row.any_weight is not None:
        return row.any_weight
    if weight_kg is None:
        return None
    return row.at_or_above if weight_kg >= band else row.below


_PLANS: dict[tuple[Any, ...], tuple[DosingCycle, ...] | None] = {}
_NEEDS_BSA: dict[tuple[Any, ...], bool] = {}
_PLAN_CACHE_LIMIT = 50_000


def dosing_plan(
    policy: Policy,
    track_id: str,
    cycles: Iterable[int],
    weight_kg: float | None,
    height_cm: float | None,
) -> Dosing | None:
    """The Section V plan for ``cycles`` of ``track_id``; None when the weight (or, for a
    mcg/m2 dose, the height) needed to dose is not stated."""
    numbers = tuple(cycles)
    bsa = None
    if weight_kg is not None and height_cm is not None:
        bsa = mosteller_bsa(height_cm, weight_kg)
    band = policy.dosing.weight_band_kg
    at_or_above = None if weight_kg is None else weight_kg >= band
    rows = policy.dosing.tracks[track_id]
    shape = (id(policy), track_id, numbers, at_or_above)
    needs_bsa = _NEEDS_BSA.get(shape)
    if needs_bsa is None:
        needs_bsa = _NEEDS_BSA[shape] = any(
            (s := _schedule(_row(rows, n), weight_kg, band)) is not None and s.basis == "bsa"
            for n in numbers
        )
    key = (*shape, bsa if needs_bsa else None)
    planned = _PLANS.get(key)
    if planned is None and key not in _PLANS:
        planned = _plan_cycles(policy, track_id, numbers, weight_kg, bsa)
        if len(_PLANS) >= _PLAN_CACHE_LIMIT:
            _PLANS.clear()
        _PLANS[key] = planned
    if planned is None:
        return None
    return Dosing(
        bsa_m2=round2(bsa) if bsa is not None else None,
        basis=planned[0].basis if planned else None,
        weight_kg=weight_kg,
        cycles=list(planned),
    )


def _plan_cycles(
    policy: Policy,
    track_id: str,
    numbers: tuple[int, ...],
    weight_kg: float | None,
    bsa: float | None,
) -> tuple[DosingCycle, ...] | None:
    track = policy.tracks[track_id]
    rows = policy.dosing.tracks[track_id]
    band = policy.dosing.weight_band_kg
    planned: list[DosingCycle] = []
    for number in numbers:
        row = _row(rows, number)
        schedule = _schedule(row, weight_kg, band)
        if schedule is None or (schedule.basis == "bsa" and bsa is None):
            return None
        doses = []
        for step in schedule.doses:
            if step.mcg_per_m2 is not None:
                assert bsa is not None  # a dose per m2 is on a "bsa" schedule: checked above
                mcg = round2(step.mcg_per_m2 * bsa)
                if step.max_mcg is not None and mcg > step.max_mcg:
                    mcg = round2(step.max_mcg)
            else:
                assert step.mcg is not None  # DoseStep: exactly one of mcg and mcg_per_m2
                mcg = round2(step.mcg)
            doses.append(DailyDose(from_day=step.from_day, to_day=step.to_day, mcg=mcg))
        group = track.cycle_group(number)
        planned.append(
            DosingCycle(
                cycle=number,
                phase=group.phase,
                cycle_days=group.cycle_days,
                treatment_days=row.treatment_days,
                daily_doses=doses,
                basis=schedule.basis,
                dose_is_maximum=schedule.dose_is_maximum,
            )
        )
    return tuple(planned)
