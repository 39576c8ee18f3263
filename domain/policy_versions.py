"""Which version of a drug's policy is in effect on a day (issue #17, "Versions in effect").

A policy file names the days it decides: ``policy.effective_from`` (else its
``effective_date``) through ``policy.effective_to``. An open end
(no ``effective_to``) runs until the drug's next version takes over; a
stated end must be followed by the next version on the very next day. So the
versions of one drug (one HCPCS code of Section VI) cover one unbroken run of
days from the first version's start:

- two versions starting the same day, or a stated end on or after the next
  version's start, **overlap**;
- a stated end more than a day before the next version's start leaves a **gap**;

both are refused by :func:`check_effective_ranges`, naming the versions and
the days. Before the first version, and after a last version's stated end, no
version is in effect (:func:`select_version` raises ``NoVersionInEffect``).

A case is decided under the version in effect on its day of receipt; a renewal
under the one in effect on the renewal request's day. Pure: the registry
(domain/policy_registry.py) calls these at load and per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from domain.policy import Policy

_DAY = timedelta(days=1)


class EffectiveRangeError(ValueError):
    """The versions of one drug overlap or leave a gap."""


class NoVersionInEffect(LookupError):
    """No version of the drug's policy decides that day."""


@dataclass(frozen=True, slots=True)
class VersionRange:
    """The days one version decides: ``first`` .. ``last`` (None: open-ended)."""

    policy: Policy
    first: date
    last: date | None

    @property
    def ref(self) -> str:
        return f"{self.policy.id}@{self.policy.version}"

    def covers(self, day: date) -> bool:
        return self.first <= day and (self.last is None or day <= self.last)


def drugs_of(policy: Policy) -> tuple[str, ...]:
    """The drugs a policy decides, by HCPCS code (Section VI)."""
    return tuple(policy.billing.hcpcs)


def effective_ranges(policies: Iterable[Policy], drug: str) -> list[VersionRange]:
    """The versions of ``drug``'s policy in order, each with the days it decides.

    An open end is closed the day before the next version starts. Checks nothing:
    :func:`check_effective_ranges` does.
    """
    mine = sorted(
        (p for p in policies if drug in drugs_of(p)),
        key=lambda p: (p.policy.in_effect_from, p.version),
    )
    ranges = []
    for i, policy in enumerate(mine):
        last = policy.policy.effective_to
        if last is None and i + 1 < len(mine):
            last = mine[i + 1].policy.in_effect_from - _DAY
        ranges.append(VersionRange(policy, policy.policy.in_effect_from, last))
    return ranges


def range_problems(policies: Iterable[Policy]) -> list[str]:
    """Every overlap and gap between the versions of each drug, as one line each."""
    policies = list(policies)
    problems: list[str] = []
    for drug in sorted({d for p in policies for d in drugs_of(p)}):
        mine = sorted(
            (p for p in policies if drug in drugs_of(p)),
            key=lambda p: (p.policy.in_effect_from, p.version),
        )
        for before, after in pairwise(mine):
            a, b = before.policy, after.policy
            names = f"{before.id}@{before.version} and {after.id}@{after.version}"
            start = b.in_effect_from
            if a.in_effect_from == start:
                problems.append(f"{drug}: {names} overlap: both take effect {start.isoformat()}")
            elif a.effective_to is not None and a.effective_to >= start:
                problems.append(
                    f"{drug}: {names} overlap: {a.effective_to.isoformat()} (effective_to) "
                    f"is not before {start.isoformat()} (effective_from)"
                )
            elif a.effective_to is not None and a.effective_to + _DAY < start:
                problems.append(
                    f"{drug}: {names} leave a gap: no version from "
                    f"{(a.effective_to + _DAY).isoformat()} to {(start - _DAY).isoformat()}"
                )
    return problems


def check_effective_ranges(policies: Iterable[Policy]) -> None:
    """Refuse overlapping or gapped versions of any drug (EffectiveRangeError)."""
    problems = range_problems(policies)
    if problems:
        raise EffectiveRangeError("; ".join(problems))


def select_version(policies: Iterable[Policy], drug: str, day: date) -> Policy:
    """The version of ``drug``'s policy (a HCPCS code) in effect on ``day``."""
    ranges = effective_ranges(policies, drug)
    found = [r for r in ranges if r.covers(day)]
    if len(found) == 1:
        return found[0].policy
    if found:
        raise EffectiveRangeError(
            f"{drug}: {', '.join(r.ref for r in found)} are all in effect on {day.isoformat()}"
        )
    if not ranges:
        raise NoVersionInEffect(f"no policy covers the drug {drug}")
    raise NoVersionInEffect(f"no version of {ranges[0].policy.id} is in effect on {day}")


__all__ = [
    "EffectiveRangeError",
    "NoVersionInEffect",
    "VersionRange",
    "check_effective_ranges",
    "drugs_of",
    "effective_ranges",
    "range_problems",
    "select_version",
]
