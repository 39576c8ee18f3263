"""The criteria tree, compiled once per policy and evaluated in three values.

Policy Section III as data (``criteria:`` in the YAML) is compiled once per
policy into one generated Python function (straight-line code, one local per
node, in post-order), so deciding a request walks no tree at run time.

Each node keeps two verdicts: *strict*, and *relaxed*, where a leaf that is
not met but meets its ``review_if`` (the AYA age notes) counts as met; a
path met only when relaxed goes to clinical review (POLICY.md, outcome rule 2).

Every node carrying a ``track`` is a *candidate*: a path (or a branch of a
path) that lands on a track of Section I. It gets the Section I duration
check ("prior cycles below the track's total") as an extra child. A
candidate's verdict is its own verdict together with its siblings under
every ``all`` ancestor (the universal criteria, the population's age and
diagnosis criteria): the tree is met through that candidate.

The explanation tree (``TraceNode``) is built from the verdicts; identical
subtrees (same verdicts, same values seen) are shared between decisions.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.decision import TraceNode
from domain.operators import EvalContext, Test, age_on, age_seen, build_test
from domain.policy import Criterion, Policy
from domain.verdict import MET, NAMES, NOT_MET, UNKNOWN

LEAF, ALL, ANY, NOT = 0, 1, 2, 3
_FACT_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")
_TRACE_CACHE_LIMIT = 200_000
_LIST_OPS = frozenset({"empty", "contains", "contains_any", "codes_in_list"})
AGE_OPS = frozenset({"age_at_least", "age_below"})

# Operators inlined by the code generator: expression over F (the fact) and K (the argument).
_INLINE: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "is_true": ("2 if {F} is True else 0", lambda a: None),
    "is_false": ("2 if {F} is False else 0", lambda a: None),
    "eq": ("2 if {F} == {K} else 0", lambda a: a),
    "in": ("2 if {F} in {K} else 0", frozenset),
    "gte": ("2 if {F} >= {K} else 0", lambda a: a),
    "gt": ("2 if {F} > {K} else 0", lambda a: a),
    "lte": ("2 if {F} <= {K} else 0", lambda a: a),
    "lt": ("2 if {F} < {K} else 0", lambda a: a),
    "empty": ("0 if {F} else 2", lambda a: None),
    "contains": ("2 if {K} in {F} else 0", lambda a: a),
    "contains_any": ("0 if {K}.isdisjoint({F}) else 2", frozenset),
}


@dataclass(slots=True, eq=False)
class Node:
    """One compiled criterion (a combinator or a leaf over one fact)."""

    index: int
    id: str
    label: str
    ref: str
    kind: int
    children: tuple[int, ...] = ()
    first: int = 0
    fact: str | None = None
    op: str | None = None
    argument: Any = None
    test: Test | None = None
    review: Test | None = None
    review_note: str | None = None
    review_spec: tuple[str, Any] | None = None
    code: str | None = None
    universal: bool = False
    gate: str | None = None
    skip_at_renewal: bool = False
    is_duration: bool = False
    null_verdict: int = UNKNOWN
    order: int = 0


@dataclass(slots=True, eq=False)
class Candidate:
    """A track-bearing node: where a met path lands (Section I)."""

    node: int
    id: str
    path: str
    path_label: str
    ref: str
    setting: str | None
    track: str
    regimen: str | None
    population: str | None
    order: int
    chain: tuple[int, ...]
    indication: tuple[int, ...]
    gate: int = -1


@dataclass(slots=True)
class Evaluation:
    """The verdict of every node for one request, and the values the leaves saw (an age
    leaf: the age it computed, whole ``(years, months)`` on the evaluation day)."""

    tree: CompiledCriteria
    strict: list[int]
    relaxed: list[int]
    values: list[Any]
    candidate_strict: tuple[int, ...]
    candidate_relaxed: tuple[int, ...]

    def verdict(self, cand: Candidate, relaxed: bool = False) -> int:
        return (self.candidate_relaxed if relaxed else self.candidate_strict)[cand.order]

    def indication_verdict(self, cand: Candidate) -> int:
        """The candidate without universal criteria and the duration check (rule 4)."""
        return min([self.relaxed[i] for i in cand.indication])

    def _leaves(self, roots: Iterable[int], wanted: int) -> list[Node]:
        """Leaves whose (relaxed) verdict explains ``wanted`` at each root, in tree order."""
        nodes = self.tree.nodes
        relaxed = self.relaxed
        found: dict[int, Node] = {}
        stack = [i for i in roots if relaxed[i] == wanted]
        while stack:
            node = nodes[stack.pop()]
            if node.kind == LEAF or node.kind == NOT:
                found[node.index] = node
                continue
            stack.extend(c for c in node.children if relaxed[c] == wanted)
        return sorted(found.values(), key=operator.attrgetter("order"))

    def unknown_leaves(self, cands: Iterable[Candidate]) -> list[Node]:
        """The unknown facts that block these candidates (POLICY.md rule 3)."""
        return self._leaves((i for c in cands for i in c.chain), UNKNOWN)

    def failed_leaves(self, cands: Iterable[Candidate]) -> list[Node]:
        """The criteria that are not met on these candidates (the reasons of a deny)."""
        return self._leaves((i for c in cands for i in c.chain), NOT_MET)

    def review_leaves(self, cand: Candidate) -> list[Node]:
        """Leaves met only through their ``review_if`` note on this candidate (rule 2)."""
        nodes = self.tree.nodes
        found = []
        for root in cand.chain:
            for i in range(nodes[root].first, root + 1):
                node = nodes[i]
                if node.review is not None and self.strict[i] == NOT_MET and self.relaxed[i] == MET:
                    found.append(node)
        return found

    def trace(self) -> TraceNode:
        """The whole tree as evaluated: id, citation, fact, value seen, verdict."""
        return self.tree.trace_of(self, len(self.tree.nodes) - 1)


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(slots=True, eq=False)
class CompiledCriteria:
    """Section III compiled for fast repeated evaluation."""

    nodes: list[Node]
    candidates: list[Candidate]
    by_id: dict[str, Node] = field(default_factory=dict)
    source: str = ""
    _run: Callable[..., tuple[Any, ...]] | None = None
    _run_renewal: Callable[..., tuple[Any, ...]] | None = None
    _traces: dict[tuple[Any, ...], TraceNode] = field(default_factory=dict)
    _requested: dict[str | None, tuple[Candidate, ...]] = field(default_factory=dict)
    policy_ref: Any = None
    gates: tuple[Node, ...] = ()

    def requested(self, setting: str | None) -> tuple[Candidate, ...]:
        """The paths of the requested ``therapy.setting`` (all of them when not stated)."""
        found = self._requested.get(setting)
        if found is None:
            found = tuple(c for c in self.candidates if setting is None or c.setting == setting)
            self._requested[setting] = found
        return found

    def evaluate(self, facts: Any, ctx: EvalContext, *, renewal: bool = False) -> Evaluation:
        """Evaluate every node on ``facts`` (a request model).

        With ``renewal`` the disease-state prerequisites (``renewal: skip``) and the
        duration checks count as met (Section IV decides those its own way).
        """
        run = self._run_renewal if renewal else self._run
        assert run is not None, "compile_criteria sets both runs"
        strict, relaxed, values, cand_strict, cand_relaxed = run(facts, ctx)
        return Evaluation(self, strict, relaxed, values, cand_strict, cand_relaxed)

    def trace_of(self, evaluation: Evaluation, i: int) -> TraceNode:
        node = self.nodes[i]
        lo = node.first
        strict = evaluation.strict
        values = evaluation.values
        key = (i, tuple(strict[lo : i + 1]), tuple(values[lo : i + 1]))
        cached = self._traces.get(key)
        if cached is not None:
            return cached
        note = None
        if node.review is not None and strict[i] == NOT_MET and evaluation.relaxed[i] == MET:
            note = node.review_note
        value = values[i] if node.kind == LEAF else None
        if node.op in AGE_OPS and value is not None:
            # The age on the evaluation day it computed, never the date of birth it read.
            value = age_seen(value, node.argument)
        built = TraceNode.model_construct(
            id=node.id,
            label=node.label,
            policy_ref=node.ref,
            verdict=NAMES[strict[i]],
            fact=node.fact,
            value=_json_value(value),
            children=[self.trace_of(evaluation, c) for c in node.children],
            review_note=note,
        )
        if len(self._traces) >= _TRACE_CACHE_LIMIT:
            self._traces.clear()
        self._traces[key] = built
        return built


def compile_criteria(policy: Policy) -> CompiledCriteria:
    """Turn the policy's criteria tree into a CompiledCriteria (once per policy)."""
    nodes: list[Node] = []
    counter = iter(range(1_000_000))
    prior = policy.prior_therapy

    def add(crit: Criterion, ref: str, order: int) -> int:
        first = len(nodes)
        # children first (post-order): a subtree is the contiguous range first..index
        children = [add(c, crit.ref or ref, next(counter)) for c in crit.children()]
        if crit.track is not None:
            track = policy.tracks[crit.track]
            duration = Criterion(
                id=f"{crit.id}-DUR",
                label=f"{prior.label} ({track.total_cycles})",
                ref=prior.ref,
                code=prior.code,
                fact=prior.fact,
                op="prior_cycles_below",
                value=track.total_cycles,
                renewal="skip",
            )
            children.append(add(duration, prior.ref, next(counter)))
        kind = LEAF
        if crit.all_ is not None:
            kind = ALL
        elif crit.any_ is not None:
            kind = ANY
        elif crit.not_ is not None:
            kind = NOT
        node = Node(
            index=len(nodes),
            id=crit.id,
            label=crit.label,
            ref=crit.ref or ref,
            kind=kind,
            children=tuple(children),
            first=first,
            code=crit.code,
            universal=crit.universal,
            gate=crit.gate,
            skip_at_renewal=crit.renewal == "skip",
            is_duration=crit.op == "prior_cycles_below",
            order=order,
        )
        if kind == LEAF:
            assert crit.op is not None  # Criterion's validator: a leaf has an op and a fact
            if not _FACT_PATH.match(crit.fact or ""):
                raise ValueError(f"criterion {crit.id}: bad fact path {crit.fact!r}")
            node.fact = crit.fact
            node.op = crit.op
            node.argument = policy.value_list(crit.list_name) if crit.list_name else crit.value
            node.test = build_test(crit.op, node.argument)
            if crit.when_null == "not_met":
                node.null_verdict = NOT_MET
                node.test = _null_is_not_met(node.test)
            if crit.review_if is not None:
                node.review = build_test(crit.review_if.op, crit.review_if.value)
                node.review_spec = (crit.review_if.op, crit.review_if.value)
                node.review_note = " ".join((crit.review_if.note or "").split()) or None
        nodes.append(node)
        return node.index

    add(policy.criteria, policy.criteria.ref or "", next(counter))
    compiled = CompiledCriteria(nodes, [], {n.id: n for n in nodes})
    compiled.gates = tuple(n for n in nodes if n.gate)
    _find_candidates(policy.criteria, compiled, [], None)
    compiled.source, namespace = _generate(compiled)
    code = compile(
        compiled.source, f"<criteria {policy.policy.id} {policy.policy.version}>", "exec"
    )
    exec(code, namespace)
    compiled._run = namespace["evaluate"]
    compiled._run_renewal = namespace["evaluate_renewal"]
    return compiled


def _leaf_fact(node: Node) -> str:
    """A leaf's fact path (Criterion's validator: every leaf has one)."""
    assert node.fact is not None
    return node.fact


def _generate(compiled: CompiledCriteria) -> tuple[str, dict[str, Any]]:
    """Python source of ``evaluate(r, ctx)`` and ``evaluate_renewal(r, ctx)``."""
    nodes = compiled.nodes
    namespace: dict[str, Any] = {}
    facts: dict[str, str] = {}
    list_facts: set[str] = set()
    for node in nodes:
        if node.kind == LEAF and _leaf_fact(node) not in facts:
            facts[_leaf_fact(node)] = f"f{len(facts)}"
        if node.kind == LEAF and node.op in _LIST_OPS:
            list_facts.add(_leaf_fact(node))

    def age_expr(op: str, spec: dict[str, int], age: str) -> str:
        unit, bound = (0, spec["years"]) if "years" in spec else (1, spec["months"])
        return f"2 if {age}[{unit}] {'>=' if op == 'age_at_least' else '<'} {bound} else 0"

    def leaf_expr(node: Node, fact: str, age: str | None) -> str:
        """The verdict of a leaf as one expression (operators inlined where they can be)."""
        i = node.index
        if node.op in AGE_OPS:
            assert age is not None  # body(): every fact of an age leaf has its age
            return f"1 if {age} is None else ({age_expr(node.op, node.argument, age)})"
        if node.op == "prior_cycles_below":  # Section I: the larger count counts
            bound = int(node.argument)
            return (
                f"0 if pc >= {bound} else (1 if {fact} is None else (2 if {fact} < {bound} else 0))"
            )
        if node.op in _INLINE:
            expr, make = _INLINE[node.op]
            namespace[f"K{i}"] = make(node.argument)
            expr = expr.format(F=f"{fact}v", K=f"K{i}")
            return f"{node.null_verdict} if {fact} is None else ({expr})"
        namespace[f"T{i}"] = node.test
        return f"T{i}({fact}v, ctx)"

    def body(renewal: bool) -> list[str]:
        lines = ["    st = ctx.start", "    pc = ctx.prior_cycles"]
        ages: dict[str, str] = {}
        for path, name in facts.items():
            lines.append(f"    {name} = r.{path}")
            if path in list_facts:  # values seen are kept hashable (shared trace nodes)
                lines.append(f"    {name}v = None if {name} is None else tuple({name})")
            else:
                lines.append(f"    {name}v = {name}")
            if any(n.kind == LEAF and n.fact == path and n.op in AGE_OPS for n in nodes):
                ages[path] = f"{name}a"
                lines.append(f"    {name}a = None if {name} is None else AGE({name}, st)")
        namespace["AGE"] = age_on
        relaxed: list[str] = []
        for node in nodes:
            i = node.index
            s, rx = f"s{i}", f"s{i}"
            if node.kind == LEAF:
                fact = facts[_leaf_fact(node)]
                age = ages.get(_leaf_fact(node))
                if renewal and node.skip_at_renewal:
                    lines.append(f"    {s} = 2")
                else:
                    lines.append(f"    {s} = {leaf_expr(node, fact, age)}")
                if node.review is not None and not (renewal and node.skip_at_renewal):
                    rx = f"r{i}"
                    review = node.review_spec
                    if review is not None and review[0] in AGE_OPS and age is not None:
                        expr = age_expr(review[0], review[1], age)
                    else:
                        namespace[f"R{i}"] = node.review
                        expr = f"R{i}({fact}v, ctx)"
                    lines.append(f"    {rx} = ({expr}) if {s} == 0 else {s}")
            elif node.kind == NOT:
                (child,) = node.children
                lines.append(f"    {s} = 2 - s{child}")
                if relaxed[child] != f"s{child}":
                    rx = f"r{i}"
                    lines.append(f"    {rx} = 2 - {relaxed[child]}")
            else:
                fn = "min" if node.kind == ALL else "max"
                kids = node.children
                lines.append(f"    {s} = " + _combine(fn, [f"s{c}" for c in kids]))
                if any(relaxed[c] != f"s{c}" for c in kids):
                    rx = f"r{i}"
                    lines.append(f"    {rx} = " + _combine(fn, [relaxed[c] for c in kids]))
            relaxed.append(rx)
        # The value each leaf saw; an age leaf's is the age it computed, (years, months)
        # on the evaluation day, not the date of birth (no trace or reason holds it).
        values = ", ".join(
            (f"{ages[_leaf_fact(n)]}" if n.op in AGE_OPS else f"{facts[_leaf_fact(n)]}v")
            if n.kind == LEAF
            else "None"
            for n in nodes
        )
        # candidates share their prerequisites: each distinct set is combined once
        groups: dict[tuple[int, ...], str] = {}
        cand_s, cand_r = [], []
        for c in compiled.candidates:
            own, rest = c.chain[0], tuple(sorted(c.chain[1:]))
            if rest not in groups:
                groups[rest] = name = f"g{len(groups)}"
                lines.append(f"    {name} = " + _combine("min", [f"s{i}" for i in rest]))
                lines.append(f"    {name}r = " + _combine("min", [relaxed[i] for i in rest]))
            name = groups[rest]
            cand_s.append(_combine("min", [f"s{own}", name]))
            cand_r.append(_combine("min", [relaxed[own], f"{name}r"]))
        strict_cands = ", ".join(f"({e})" for e in cand_s)
        relaxed_cands = ", ".join(f"({e})" for e in cand_r)
        lines.append(f"    strict = [{', '.join(f's{n.index}' for n in nodes)}]")
        lines.append("    relaxed = strict.copy()")
        lines.extend(
            f"    relaxed[{i}] = {name}" for i, name in enumerate(relaxed) if name != f"s{i}"
        )
        lines.append(f"    values = [{values}]")
        lines.append(f"    return strict, relaxed, values, ({strict_cands},), ({relaxed_cands},)")
        return lines

    source = "\n".join(
        [
            "def evaluate(r, ctx):",
            *body(renewal=False),
            "",
            "def evaluate_renewal(r, ctx):",
            *body(renewal=True),
            "",
        ]
    )
    return source, namespace


def _null_is_not_met(test: Test) -> Test:
    return lambda v, ctx: NOT_MET if v is None else test(v, ctx)


def _combine(fn: str, args: list[str]) -> str:
    if len(args) == 1:
        return args[0]
    if len(args) == 2:  # cheaper than a call
        a, b = args
        return f"{a} if {a} {'<' if fn == 'min' else '>'} {b} else {b}"
    return f"{fn}({', '.join(args)})"


def _find_candidates(
    crit: Criterion,
    compiled: CompiledCriteria,
    ancestors: list[tuple[Criterion, Criterion]],
    path: Criterion | None,
) -> None:
    """Walk the source tree; every ``track`` node becomes a Candidate with its chain."""
    if crit.path:
        path = crit
    if crit.track is not None:
        if path is None:
            raise ValueError(f"criterion {crit.id}: a track node must be or lie under a path")
        by_id = compiled.by_id
        node = by_id[crit.id]
        sources = [
            s
            for parent, child in ancestors
            if parent.all_ is not None
            for s in parent.all_
            if s is not child
        ]
        for source in sources:
            if any(c.track for c in source.walk()):
                raise ValueError(f"criterion {source.id}: a prerequisite may not hold a track")
        siblings = [by_id[s.id] for s in sources]
        gate = next((s.gate for s in siblings if s.gate), None)
        own = [c for c in node.children if not compiled.nodes[c].is_duration]
        indication = [*own, *(s.index for s in siblings if not s.universal)]
        compiled.candidates.append(
            Candidate(
                node=node.index,
                id=crit.id,
                path=path.id,
                path_label=path.label,
                ref=by_id[path.id].ref,
                setting=path.setting,
                track=crit.track,
                regimen=crit.regimen or path.regimen,
                population=gate,
                order=len(compiled.candidates),
                chain=(node.index, *(s.index for s in siblings)),
                indication=tuple(indication),
                gate=next((s.index for s in siblings if s.gate), node.index),
            )
        )
    for child in crit.children():
        _find_candidates(child, compiled, [*ancestors, (crit, child)], path)


__all__ = ["Candidate", "CompiledCriteria", "Evaluation", "Node", "compile_criteria"]
