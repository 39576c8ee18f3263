"""Whose outcome a draft policy would change (issue #17, ``priorauth policy impact``).

A case's latest facts (its request with every fact added since, and the
member's prior cycles the system counted) are decided twice, by the same
outcome rules ``decide`` uses (``domain.engine.choose``): under the policy in
force and under the draft. Deciding both (rather than reading the decision
the case got) isolates the draft's effect: a case decided under an older
version, or by a reviewer, is compared on the same footing, and a draft
identical to the policy in force changes nothing by construction.

What is compared, each a *kind* of change:

- ``determination``: approve, review (AYA clinical review), pend, deny,
  not applicable;
- ``track``: the Section I track granted (approve or review);
- ``period``: its length in days (the start is the request's, under both);
- ``cycles``: how many cycles, from which cycle on (prior therapy);
- ``units``: the period's units (Section II);
- ``renewability``: renewable or not, and how many renewals.

And *the node that made the difference*: the path (criteria node with a
track) whose verdict changed, the granted one first; with the leaves
whose verdict changed under it (``criteria``). Pure; no trace is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.criteria import LEAF, Candidate, CompiledCriteria
from domain.engine import Choice, choose, compiled
from domain.policy import Policy
from domain.request import PARequest
from domain.terms import initial_authorization

KINDS = ("determination", "track", "period", "cycles", "units", "renewability", "path")

#: Case statuses after which a case decides nothing more (domain.case.state).
CLOSED_STATUSES = ("expired", "completed", "withdrawn", "discontinued", "not_applicable")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a case gets under one policy: the determination and the grant's terms."""

    determination: str
    track: str | None = None
    node: str | None = None
    days: int | None = None
    cycles: int | None = None
    first_cycle: int | None = None
    units: int | None = None
    renewable: bool | None = None
    max_renewals: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "determination": self.determination,
            "track": self.track,
            "path": self.node,
            "period_days": self.days,
            "cycles": self.cycles,
            "first_cycle": self.first_cycle,
            "units": self.units,
            "renewable": self.renewable,
            "max_renewals": self.max_renewals,
        }


@dataclass(frozen=True, slots=True)
class CaseImpact:
    """One case whose outcome the draft changes; by case id, never by name."""

    case_id: str
    kinds: tuple[str, ...]
    before: Outcome
    after: Outcome
    node: str | None
    node_ref: str | None
    criteria: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "changes": list(self.kinds),
            "before": self.before.as_json(),
            "after": self.after.as_json(),
            "node": self.node,
            "node_ref": self.node_ref,
            "criteria": list(self.criteria),
        }


def changed_kinds(a: Outcome, b: Outcome) -> tuple[str, ...]:
    kinds = []
    if a.determination != b.determination:
        kinds.append("determination")
    if a.track != b.track:
        kinds.append("track")
    if a.days != b.days:
        kinds.append("period")
    if (a.cycles, a.first_cycle) != (b.cycles, b.first_cycle):
        kinds.append("cycles")
    if a.units != b.units:
        kinds.append("units")
    if (a.renewable, a.max_renewals) != (b.renewable, b.max_renewals):
        kinds.append("renewability")
    return tuple(kinds)


class ImpactAnalysis:
    """Compares one case at a time under ``current`` and ``draft`` (built once per run)."""

    def __init__(self, current: Policy, draft: Policy) -> None:
        self.current, self.draft = current, draft
        self._outcomes: dict[tuple[int, str, str | None, int], Outcome] = {}
        a, b = compiled(current), compiled(draft)
        self._trees = (a, b)
        ids_b = b.by_id
        self._common_leaves = [
            (n.index, ids_b[n.id].index, n.id, n.order)
            for n in a.nodes
            if n.kind == LEAF and n.id in ids_b and ids_b[n.id].kind == LEAF
        ]
        self._only_leaves = [
            (tree_index, n.index, n.id, n.order)
            for tree_index, (tree, other) in enumerate(((a, b), (b, a)))
            for n in tree.nodes
            if n.kind == LEAF and n.id not in other.by_id
        ]

    def outcome(self, policy: Policy, choice: Choice) -> Outcome:
        """The case's outcome; one shared object per policy, path and prior cycles."""
        cand = choice.candidate
        key = (id(policy), choice.determination, cand.id if cand else None, choice.prior)
        found = self._outcomes.get(key)
        if found is not None:
            return found
        if cand is None:
            found = Outcome(choice.determination)
        else:
            auth = initial_authorization(policy, cand.track, choice.start, choice.prior)
            found = Outcome(
                choice.determination,
                cand.track,
                cand.id,
                auth.days,
                auth.cycles,
                auth.first_cycle,
                auth.authorized_units,
                auth.renewable,
                auth.max_renewals,
            )
        self._outcomes[key] = found
        return found

    def compare(self, case_id: str, request: PARequest, prior_cycles: int = 0) -> CaseImpact | None:
        """The case's change under the draft, or None when its outcome is the same."""
        a = choose(request, self.current, prior_cycles=prior_cycles)
        b = choose(request, self.draft, prior_cycles=prior_cycles)
        before, after = self.outcome(self.current, a), self.outcome(self.draft, b)
        if before == after:
            return None
        node = self._difference(a, b)
        return CaseImpact(
            case_id=case_id,
            kinds=changed_kinds(before, after) or ("path",),
            before=before,
            after=after,
            node=node.id if node else None,
            node_ref=node.ref if node else None,
            criteria=self._changed_leaves(a, b),
        )

    def _difference(self, a: Choice, b: Choice) -> Candidate | None:
        """The path whose verdict made the difference: the granted one first."""
        tree_a, tree_b = self._trees

        def verdicts(
            choice: Choice, tree: CompiledCriteria, cand_id: str
        ) -> tuple[object, object] | None:
            cand = next((c for c in tree.candidates if c.id == cand_id), None)
            if cand is None:
                return None
            ev = choice.evaluation
            return ev.candidate_strict[cand.order], ev.candidate_relaxed[cand.order]

        def changed(cand_id: str) -> bool:
            return verdicts(a, tree_a, cand_id) != verdicts(b, tree_b, cand_id)

        ca, cb = a.candidate, b.candidate
        if ca is not None and (cb is None or cb.id != ca.id) and changed(ca.id):
            return ca
        if cb is not None and (ca is None or cb.id != ca.id):
            return cb
        if ca is not None:
            return ca  # the same path, other terms
        for cand in (*b.requested, *a.requested, *tree_b.candidates):
            if changed(cand.id):
                return cand
        return None

    def _changed_leaves(self, a: Choice, b: Choice) -> tuple[str, ...]:
        sa, ra = a.evaluation.strict, a.evaluation.relaxed
        sb, rb = b.evaluation.strict, b.evaluation.relaxed
        found = [
            (order, node_id)
            for ia, ib, node_id, order in self._common_leaves
            if sa[ia] != sb[ib] or ra[ia] != rb[ib]
        ]
        found += [(order, node_id) for _, _, node_id, order in self._only_leaves]
        return tuple(node_id for _, node_id in sorted(found))


@dataclass
class ImpactSummary:
    """Counts over a run: cases read, changed, and changed by kind."""

    cases: int = 0
    changed: int = 0
    by_kind: dict[str, int] | None = None
    by_node: dict[str, int] | None = None

    def add(self, impact: CaseImpact | None) -> None:
        self.cases += 1
        if impact is None:
            return
        self.changed += 1
        by_kind = self.by_kind if self.by_kind is not None else {}
        by_node = self.by_node if self.by_node is not None else {}
        for kind in impact.kinds:
            by_kind[kind] = by_kind.get(kind, 0) + 1
        node = impact.node or "(none)"
        by_node[node] = by_node.get(node, 0) + 1
        self.by_kind, self.by_node = by_kind, by_node

    def as_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "changed": self.changed,
            "by_kind": {k: (self.by_kind or {}).get(k, 0) for k in KINDS},
            "by_node": dict(sorted((self.by_node or {}).items())),
        }


__all__ = [
    "CLOSED_STATUSES",
    "KINDS",
    "CaseImpact",
    "ImpactAnalysis",
    "ImpactSummary",
    "Outcome",
    "changed_kinds",
]
