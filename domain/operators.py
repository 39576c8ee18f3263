"""The generic leaf operators of a criteria tree (policy Section III, as data).

Each operator is built once per leaf from the leaf's YAML (``value`` or the
named ``list``) and then called with the fact's value and the evaluation
context. A fact that is ``None`` (not stated) is unknown, never false.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.verdict import MET, NOT_MET, UNKNOWN


@dataclass(slots=True)
class EvalContext:
    """What a leaf may need besides its fact: the period start (ages, Section III)
    and the system's own count of the member's earlier cycles (Section I)."""

    start: date
    prior_cycles: int = 0


Test = Callable[[Any, EvalContext], int]


def normalize_code(code: str) -> str:
    """ICD-10 codes compare without the dot, upper case (Appendix 1)."""
    return code.replace(".", "").strip().upper()


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months; a day missing from the target month is its last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """Anniversary ``years`` later; 29 February becomes 1 March in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def birthday(dob: date, spec: dict[str, int]) -> date:
    """The day a person born on ``dob`` reaches the age ``{years: n}`` or ``{months: n}``."""
    if "years" in spec:
        return add_years(dob, int(spec["years"]))
    return add_months(dob, int(spec["months"]))


def age_on(dob: date, day: date) -> tuple[int, int]:
    """Whole (years, months) of age on ``day``; consistent with ``birthday``:
    a year is reached on the anniversary (29 February: 1 March in common years),
    a month on the same day of a later month (or that month's last day)."""
    years = day.year - dob.year
    if (day.month, day.day) < (dob.month, dob.day):
        years -= 1
    months = (day.year - dob.year) * 12 + day.month - dob.month
    if day.day < dob.day and day.day < _days_in_month(day.year, day.month):
        months -= 1
    return years, months


#: HIPAA Safe Harbor: ages over 89 are one category, shown and kept as 90 years.
AGE_CAP_YEARS = 90


def age_seen(age: tuple[int, int], spec: dict[str, int]) -> dict[str, int]:
    """The age an age criterion saw, as its trace records it: ``{"years": n}`` for a
    criterion in years, ``{"years": n, "months": m}`` (``m`` the whole months of age,
    what the criterion compares) for one in months; ages over 89 as 90 years."""
    years, months = age
    if years >= AGE_CAP_YEARS:
        years, months = AGE_CAP_YEARS, AGE_CAP_YEARS * 12
    if "years" in spec:
        return {"years": years}
    return {"years": years, "months": months}


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _DAYS[month - 1]


def _is_true(_: Any) -> Test:
    return lambda v, ctx: UNKNOWN if v is None else (MET if v is True else NOT_MET)


def _is_false(_: Any) -> Test:
    return lambda v, ctx: UNKNOWN if v is None else (MET if v is False else NOT_MET)


def _eq(expected: Any) -> Test:
    return lambda v, ctx: UNKNOWN if v is None else (MET if v == expected else NOT_MET)


def _in(values: Any) -> Test:
    allowed = frozenset(values)
    return lambda v, ctx: UNKNOWN if v is None else (MET if v in allowed else NOT_MET)


def _compare(check: Callable[[Any, Any], bool]) -> Callable[[Any], Test]:
    def build(bound: Any) -> Test:
        return lambda v, ctx: UNKNOWN if v is None else (MET if check(v, bound) else NOT_MET)

    return build


def _empty(_: Any) -> Test:
    return lambda v, ctx: UNKNOWN if v is None else (NOT_MET if v else MET)


def _contains(item: Any) -> Test:
    return lambda v, ctx: UNKNOWN if v is None else (MET if item in v else NOT_MET)


def _contains_any(values: Any) -> Test:
    wanted = frozenset(values)
    return lambda v, ctx: UNKNOWN if v is None else (NOT_MET if wanted.isdisjoint(v) else MET)


def _codes_in_list(codes: Any) -> Test:
    covered = frozenset(normalize_code(c) for c in codes)

    def test(v: Any, ctx: EvalContext) -> int:
        if not v:
            return UNKNOWN
        return MET if any(normalize_code(c) in covered for c in v) else NOT_MET

    return test


def _age_at_least(spec: dict[str, int]) -> Test:
    """Age at the period start (Section III, "Ages"): reached on the birthday itself."""

    def test(v: Any, ctx: EvalContext) -> int:
        if v is None:
            return UNKNOWN
        return MET if ctx.start >= birthday(v, spec) else NOT_MET

    return test


def _age_below(spec: dict[str, int]) -> Test:
    def test(v: Any, ctx: EvalContext) -> int:
        if v is None:
            return UNKNOWN
        return MET if ctx.start < birthday(v, spec) else NOT_MET

    return test


def _prior_cycles_below(total: int) -> Test:
    """Section I: the larger of the request's count and the system's record counts."""

    def test(v: Any, ctx: EvalContext) -> int:
        if ctx.prior_cycles >= total:
            return NOT_MET
        if v is None:
            return UNKNOWN
        return MET if v < total else NOT_MET

    return test


OPERATORS: dict[str, Callable[[Any], Test]] = {
    "is_true": _is_true,
    "is_false": _is_false,
    "eq": _eq,
    "in": _in,
    "gte": _compare(lambda a, b: a >= b),
    "gt": _compare(lambda a, b: a > b),
    "lte": _compare(lambda a, b: a <= b),
    "lt": _compare(lambda a, b: a < b),
    "empty": _empty,
    "contains": _contains,
    "contains_any": _contains_any,
    "codes_in_list": _codes_in_list,
    "age_at_least": _age_at_least,
    "age_below": _age_below,
    "prior_cycles_below": _prior_cycles_below,
}


def build_test(op: str, argument: Any) -> Test:
    """The test for one leaf: ``op`` applied with its ``value`` or list."""
    return OPERATORS[op](argument)
