"""The policies this system serves, selected by the request's drug.

A ``PolicyRegistry`` holds every policy file of a directory (by default
``domain/policies/``): dropping a second drug's YAML file there is all it takes
to serve that drug. A case is decided under the policy that covers its
``service.hcpcs`` (``for_drug``) and carries that policy's ref,
``"policy_id@version"`` (``Policy.ref``), from then on (``get``).

Rules checked when the registry is built, so a bad directory stops a start
rather than a case:

- every file is a valid policy (``domain.policy.Policy``);
- an ``id@version`` appears once;
- a drug (HCPCS code) belongs to one policy id: two different policies for one
  drug are refused. Versions of one policy may sit side by side, their days in
  effect (``policy.effective_from``/``effective_to``) neither overlapping nor
  leaving a gap (``domain.policy_versions.check_effective_ranges``). ``for_drug``
  takes the version in effect on ``as_of`` (``domain.policy_versions.select_version``,
  the one selection rule; before the first version: the first; default: the newest).

Cases started before cases carried a ref (``policy_ref`` None) were all
Blincyto cases: ``resolve(None, hcpcs)`` is the policy of their drug when one
covers it, else ``LEGACY_POLICY_REF``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from domain.policy import POLICY_DIR, Policy, _load
from domain.policy_versions import check_effective_ranges, effective_ranges, select_version

#: The policy of every case recorded before cases named theirs (the only one then served).
LEGACY_POLICY_REF = "OHSU-HEALTHSERVICES-0382@2025-09-04"


class UnknownDrug(LookupError):
    """No policy of the registry covers this HCPCS code."""

    def __init__(self, hcpcs: str, covered: Iterable[str]) -> None:
        self.hcpcs = hcpcs
        self.covered = tuple(covered)
        super().__init__(f"no policy covers HCPCS {hcpcs!r} (covered: {', '.join(self.covered)})")


class UnknownPolicy(LookupError):
    """No policy of the registry has this ``id@version`` (or id)."""


class PolicyConflict(ValueError):
    """The registry's files contradict each other (one drug, two policies; a ref twice)."""


class PolicyRegistry:
    """Every policy served, by ref and by drug. Immutable once built."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        by_ref: dict[str, Policy] = {}
        owner: dict[str, str] = {}  # HCPCS -> policy id
        problems: list[str] = []
        for policy in policies:
            if policy.ref in by_ref:
                problems.append(f"policy {policy.ref} is given twice")
                continue
            by_ref[policy.ref] = policy
            for code in policy.billing.hcpcs:
                other = owner.setdefault(code, policy.id)
                if other != policy.id:
                    problems.append(
                        f"HCPCS {code} is covered by two policies, {other} and {policy.id}: "
                        "one drug has one policy (its versions may sit side by side)"
                    )
        if problems:
            raise PolicyConflict("; ".join(problems))
        if not by_ref:
            raise PolicyConflict("no policy: a registry serves at least one")
        check_effective_ranges(by_ref.values())  # EffectiveRangeError: overlaps, gaps
        self._by_ref = by_ref
        # Newest version first, for each drug and each policy id.
        newest_first = sorted(
            by_ref.values(), key=lambda p: (p.policy.in_effect_from, p.version), reverse=True
        )
        self._by_drug: dict[str, list[Policy]] = {}
        self._by_id: dict[str, list[Policy]] = {}
        for policy in newest_first:
            self._by_id.setdefault(policy.id, []).append(policy)
            for code in policy.billing.hcpcs:
                self._by_drug.setdefault(code, []).append(policy)

    @classmethod
    def from_directory(cls, path: str | Path | None = None) -> PolicyRegistry:
        """Every ``*.yaml`` policy of ``path`` (default ``domain/policies/``); refused
        (``PolicyConflict``, ``EffectiveRangeError``) when they contradict each other."""
        return cls.from_files(sorted(Path(path or POLICY_DIR).glob("*.yaml")))

    @classmethod
    def from_files(cls, files: Iterable[str | Path]) -> PolicyRegistry:
        return cls(_load(str(Path(file).resolve())) for file in files)

    @property
    def policies(self) -> tuple[Policy, ...]:
        """Every policy, by ref."""
        return tuple(self._by_ref[ref] for ref in sorted(self._by_ref))

    @property
    def hcpcs(self) -> tuple[str, ...]:
        """Every drug covered, sorted."""
        return tuple(sorted(self._by_drug))

    def for_drug(self, hcpcs: str, as_of: date | None = None) -> Policy:
        """The policy covering ``hcpcs``: the version in effect on ``as_of`` (a case: its
        day of receipt; ``select_version``), or without a day the newest version.

        A day before the drug's first version on file takes that first version (a request
        received then is decided under the earliest policy we have); a day after a last
        version's stated ``effective_to`` raises ``NoVersionInEffect``."""
        versions = self._by_drug.get(hcpcs)
        if not versions:
            raise UnknownDrug(hcpcs, self.hcpcs)
        ranges = effective_ranges(versions, hcpcs)
        if as_of is None:
            return ranges[-1].policy
        if as_of < ranges[0].first:
            return ranges[0].policy
        return select_version(versions, hcpcs, as_of)

    def get(self, ref: str) -> Policy:
        """The policy ``id@version`` (an id alone: its newest version)."""
        policy = self._by_ref.get(ref)
        if policy is None and "@" not in ref and ref in self._by_id:
            policy = self._by_id[ref][0]
        if policy is None:
            raise UnknownPolicy(f"no policy {ref!r} (known: {', '.join(sorted(self._by_ref))})")
        return policy

    def resolve(self, ref: str | None, hcpcs: str | None = None) -> Policy:
        """A case's policy: by its ref. A case without one was started before cases named
        their policy: the policy of its drug when one covers it, else the legacy policy
        (a case accepted then for a drug none covers was decided under Blincyto's)."""
        if ref:
            return self.get(ref)
        if hcpcs and hcpcs in self._by_drug:
            return self.for_drug(hcpcs)
        return self.get(LEGACY_POLICY_REF)

    def __contains__(self, ref: object) -> bool:
        return ref in self._by_ref

    def __repr__(self) -> str:
        return f"PolicyRegistry({', '.join(sorted(self._by_ref))})"


@functools.lru_cache(maxsize=1)
def default_registry() -> PolicyRegistry:
    """The registry of ``domain/policies/``, read once per process."""
    return PolicyRegistry.from_directory()


__all__ = [
    "LEGACY_POLICY_REF",
    "PolicyConflict",
    "PolicyRegistry",
    "UnknownDrug",
    "UnknownPolicy",
    "default_registry",
]
