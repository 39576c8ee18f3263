"""Deciding an initial request against a policy (policy Section III; POLICY.md,
"Three-valued evaluation and the outcome").

``decide`` evaluates the whole criteria tree once, then applies the outcome
rules in order:

1. some path (requested or other) fully met -> approve on its track; among
   several, the one naming the requested regimen, then a requested one, then
   the first in policy order;
2. some path met except for an AYA age note -> clinical review;
3. some requested path blocked only by unknown facts -> pend, listing them;
4. otherwise deny (a recommendation for a reviewer unless allowed), citing
   "uses not listed above have inadequate data" when no path fits at all.

An approval (or the would-be grant of a review) carries the Section I terms
after the member's prior cycles ("Prior therapy": the numbering continues at
``p + 1``; see ``domain.terms``), with the dosing of those cycles (Section V).
Medicare Part B requests are not applicable (Appendix 2). Pure: the as-of date
is given, nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.criteria import AGE_OPS, Candidate, CompiledCriteria, Evaluation, Node, compile_criteria
from domain.decision import (
    X12_BY_DETERMINATION,
    Authorization,
    Decision,
    Determination,
    Dosing,
    PolicyRef,
    Reason,
)
from domain.dosing import dosing_plan
from domain.medicare import mac_for_request
from domain.operators import EvalContext
from domain.policy import Policy
from domain.request import PARequest
from domain.terms import counted_prior_cycles, initial_authorization
from domain.verdict import MET, NOT_MET, UNKNOWN

_COMPILED: dict[int, tuple[Policy, CompiledCriteria]] = {}


def compiled(policy: Policy) -> CompiledCriteria:
    """The policy's criteria tree, compiled once per policy object."""
    entry = _COMPILED.get(id(policy))
    if entry is None or entry[0] is not policy:
        tree = compile_criteria(policy)
        tree.policy_ref = PolicyRef(id=policy.policy.id, version=policy.policy.version)
        entry = (policy, tree)
        _COMPILED[id(policy)] = entry
    return entry[1]


@dataclass(slots=True)
class Choice:
    """What the outcome rules chose, before a Decision is written out.

    ``candidate`` is the path granted (approve) or near-granted (review); ``pending``
    the requested paths blocked only by unknown facts (pend); ``requested`` the paths of
    the requested setting. ``decide`` writes the Decision from it; the policy impact
    analysis (domain.policy_impact) compares two of them without building one.
    """

    determination: Determination
    evaluation: Evaluation
    start: date
    prior: int
    candidate: Candidate | None = None
    requested: tuple[Candidate, ...] = ()
    pending: tuple[Candidate, ...] = ()
    automated: bool = True


def choose(
    request: PARequest,
    policy: Policy,
    *,
    prior_cycles: int = 0,
    allow_automatic_denial: bool = False,
) -> Choice:
    """Evaluate the tree once and apply the outcome rules (module docstring, 1-4)."""
    tree = compiled(policy)
    start = request.period_start()
    evaluation = tree.evaluate(request, EvalContext(start=start, prior_cycles=prior_cycles))
    prior = counted_prior_cycles(request, prior_cycles)
    if request.line_of_business in policy.medicare.not_applicable_lines:
        return Choice("not_applicable", evaluation, start, prior)

    candidates = tree.candidates
    requested = tree.requested(request.therapy.setting)
    regimen = request.therapy.regimen

    def rank(c: Candidate) -> tuple[bool, bool, int]:
        return (regimen is None or c.regimen != regimen, c not in requested, c.order)

    strict, relaxed = evaluation.candidate_strict, evaluation.candidate_relaxed
    if MET in strict:
        best = min((c for c in candidates if strict[c.order] == MET), key=rank)
        return Choice("approve", evaluation, start, prior, best, requested)
    if MET in relaxed:
        near = min((c for c in candidates if relaxed[c.order] == MET), key=rank)
        return Choice("review", evaluation, start, prior, near, requested)
    pending = tuple(c for c in requested if relaxed[c.order] == UNKNOWN)
    if pending:
        return Choice("pend", evaluation, start, prior, None, requested, pending)
    automated = allow_automatic_denial and not _human_review(policy, request)
    return Choice("deny", evaluation, start, prior, None, requested, (), automated)


def decide(
    request: PARequest,
    policy: Policy,
    *,
    as_of: date,
    prior_cycles: int = 0,
    allow_automatic_denial: bool = False,
) -> Decision:
    """Decide ``request`` under ``policy`` as of ``as_of``.

    ``prior_cycles`` is the system's own record of the member's earlier cycles
    (Section I, prior therapy: the larger of it and the request's value counts).
    ``allow_automatic_denial`` is the setting that lets a deny stand without a
    reviewer; lines of business that require human review of adverse decisions
    (Medicare Advantage) ignore it.
    """
    choice = choose(
        request,
        policy,
        prior_cycles=prior_cycles,
        allow_automatic_denial=allow_automatic_denial,
    )
    ref = compiled(policy).policy_ref
    evaluation, start, prior = choice.evaluation, choice.start, choice.prior
    determination = choice.determination
    if determination == "not_applicable":
        return _not_applicable(request, policy, ref, evaluation, as_of)
    if choice.candidate is not None:
        args = (request, policy, ref, evaluation, as_of, start, prior)
        return _grant(determination, choice.candidate, *args)
    if determination == "pend":
        return _pend(list(choice.pending), request, ref, evaluation, as_of)
    return _deny(
        list(choice.requested), request, policy, ref, evaluation, as_of, start, choice.automated
    )


def _human_review(policy: Policy, request: PARequest) -> bool:
    rules = policy.lines_of_business.get(request.line_of_business)
    return rules is None or rules.human_review_of_adverse_decisions


def _decision(
    determination: Determination, request: PARequest, ref: PolicyRef, **fields: Any
) -> Decision:
    return Decision(
        request_id=request.request_id,
        determination=determination,
        x12_action=X12_BY_DETERMINATION[determination],
        policy=ref,
        **fields,
    )


def _grant(
    determination: Determination,
    cand: Candidate,
    request: PARequest,
    policy: Policy,
    ref: PolicyRef,
    evaluation: Evaluation,
    as_of: date,
    start: date,
    prior: int,
) -> Decision:
    """The grant on ``cand``'s track: Section I terms after ``prior`` cycles (prior therapy:
    the numbering continues at ``prior + 1``), Section II units, Section V dosing."""
    track = policy.tracks[cand.track]
    authorization = initial_authorization(policy, cand.track, start, prior_cycles=prior)
    dosing = _dosing(policy, cand.track, authorization, request)
    reasons = []
    if determination == "approve":
        reasons.append(
            Reason(
                code="criteria_met",
                policy_ref=cand.ref,
                text=f"{cand.id}: {cand.path_label} — criteria met.",
            )
        )
    else:
        code = str(policy.outcome.review.get("code", "clinical_review"))
        for leaf in evaluation.review_leaves(cand):
            reasons.append(
                Reason(
                    code=code,
                    policy_ref=leaf.ref,
                    text=f"{cand.id}: {cand.path_label} — met except for the age note of "
                    f"{leaf.id}: {leaf.review_note or leaf.label}",
                )
            )
    if setting_differs(cand, request):
        reasons.append(
            Reason(
                code="other_path",
                policy_ref=cand.ref,
                text=f"{cand.id} is met although the request named "
                f"therapy.setting {request.therapy.setting!r}.",
            )
        )
    reasons.append(
        Reason(
            code="authorization_terms",
            policy_ref=track.ref,
            text=f"{track.label}: {authorization.days} days {authorization.start.isoformat()} to "
            f"{authorization.end.isoformat()}, {authorization.cycles} cycle(s) "
            f"({cycle_span(authorization.first_cycle, authorization.last_cycle)} of "
            f"{track.total_cycles}"
            + (f"; {prior} prior cycle(s) counted" if prior else "")
            + f"); at most {authorization.max_units_per_42_days} units per "
            f"{policy.units.window_days} days and {authorization.authorized_units} units "
            f"in the period ({policy.units.ref}); "
            + (
                f"renewable, {authorization.max_renewals} renewal(s) left."
                if authorization.renewable
                else "not renewable."
            ),
        )
    )
    if dosing is None:
        reasons.append(
            Reason(
                code="dosing_needs_weight",
                policy_ref=policy.dosing.ref,
                text="No dosing plan: clinical.weight_kg (and clinical.height_cm for a "
                "mcg/m2 dose) not stated.",
            )
        )
    return _decision(
        determination,
        request,
        ref,
        automated=determination == "approve",
        track=cand.track,
        population=cand.population,
        path=cand.path,
        authorization=authorization,
        dosing=dosing,
        reasons=reasons,
        trace=evaluation.trace(),
        as_of=as_of,
        aya_review=determination == "review",
    )


def cycle_span(first: int, last: int) -> str:
    """``cycle 9`` or ``cycles 4-6``, as a notice or a reason names them."""
    return f"cycle {first}" if first == last else f"cycles {first}-{last}"


def setting_differs(cand: Candidate, request: PARequest) -> bool:
    setting = request.therapy.setting
    return setting is not None and cand.setting != setting


def _dosing(
    policy: Policy, track: str, authorization: Authorization, request: PARequest
) -> Dosing | None:
    cycles = range(authorization.first_cycle, authorization.first_cycle + authorization.cycles)
    clinical = request.clinical
    return dosing_plan(policy, track, cycles, clinical.weight_kg, clinical.height_cm)


def _pend(
    pending: list[Candidate],
    request: PARequest,
    ref: PolicyRef,
    evaluation: Evaluation,
    as_of: date,
) -> Decision:
    leaves = evaluation.unknown_leaves(pending)
    missing: list[str] = []
    reasons = []
    for leaf in leaves:
        if leaf.fact and leaf.fact not in missing:
            missing.append(leaf.fact)
        reasons.append(
            Reason(
                code="missing_fact",
                policy_ref=leaf.ref,
                text=f"{leaf.id} ({leaf.label}): {leaf.fact or 'a fact'} not stated.",
            )
        )
    paths = {c.path for c in pending}
    tracks = {c.track for c in pending}
    populations = {c.population for c in pending}
    return _decision(
        "pend",
        request,
        ref,
        automated=True,
        track=tracks.pop() if len(tracks) == 1 else None,
        population=populations.pop() if len(populations) == 1 else None,
        path=paths.pop() if len(paths) == 1 else None,
        missing_facts=missing,
        reasons=reasons,
        trace=evaluation.trace(),
        as_of=as_of,
    )


def _deny(
    requested: Sequence[Candidate],
    request: PARequest,
    policy: Policy,
    ref: PolicyRef,
    evaluation: Evaluation,
    as_of: date,
    start: date,
    automated: bool,
) -> Decision:
    tree = evaluation.tree
    population = next((n.gate for n in tree.gates if evaluation.strict[n.index] == MET), None)
    in_population = [c for c in requested if evaluation.relaxed[c.gate] == MET]
    explained = in_population or requested
    reasons: list[Reason] = []
    if all(evaluation.indication_verdict(c) == NOT_MET for c in requested):
        not_listed = policy.outcome.not_listed
        reasons.append(
            Reason(code=not_listed.code, policy_ref=not_listed.ref, text=not_listed.text)
        )
    for leaf in evaluation.failed_leaves(explained):
        seen = stated(leaf, evaluation.values[leaf.index], start)
        reasons.append(
            Reason(
                code=leaf.code or "criterion_not_met",
                policy_ref=leaf.ref,
                text=f"{leaf.id} ({leaf.label}): not met{seen}.",
            )
        )
    return _decision(
        "deny",
        request,
        ref,
        automated=automated,
        population=population,
        reasons=reasons,
        trace=evaluation.trace(),
        as_of=as_of,
    )


#: The request's ``member`` object (CONTRACT.md): names, member id, date of birth, state.
#: A reason (and so a notice, a log line, the case view) never shows these values.
MEMBER_FACTS = "member."
#: HIPAA Safe Harbor: ages over 89 are aggregated into one category.
AGE_SHOWN_UP_TO = 89


def stated(leaf: Node, value: object, start: date) -> str:
    """What a reason says about the value a not-met criterion saw.

    A clinical fact is shown as stated, `` (stated: positive)``. A member's date of
    birth never is: an age criterion saw the age it computed on the evaluation day
    (``start``; the trace records the same, never the date of birth), shown as
    `` (age 9, below 18)``; any other member field shows nothing.
    """
    if not leaf.fact:
        return ""
    if leaf.op in AGE_OPS and isinstance(value, tuple):
        return f" ({age_reason(leaf.op, leaf.argument, value)})"
    if leaf.fact.startswith(MEMBER_FACTS):
        return ""
    return f" (stated: {show(value)})"


def age_reason(op: str, spec: dict[str, int], age: tuple[int, int]) -> str:
    """``age 9, below 18`` / ``age 20, 18 or older`` / ``age 0 months, below 1 month``,
    from the whole ``(years, months)`` of age an age criterion saw."""
    years, months = age
    if "years" in spec:
        bound = f"{spec['years']}"
        age_text = (
            f"age {years}" if years <= AGE_SHOWN_UP_TO else f"age {AGE_SHOWN_UP_TO + 1} or older"
        )
    else:
        bound = _count(int(spec["months"]), "month")
        age_text = f"age {_count(months, 'month')}"
    return f"{age_text}, below {bound}" if op == "age_at_least" else f"{age_text}, {bound} or older"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def show(value: object) -> str:
    """A fact value as a reviewer reads it."""
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _not_applicable(
    request: PARequest, policy: Policy, ref: PolicyRef, evaluation: Evaluation, as_of: date
) -> Decision:
    medicare = mac_for_request(policy, request)
    reasons = [
        Reason(code="medicare_part_b", policy_ref=policy.medicare.ref, text=policy.medicare.text)
    ]
    missing: list[str] = []
    if medicare is None:
        missing.append("member.state")
        reasons.append(
            Reason(
                code="mac_unknown",
                policy_ref=policy.medicare.ref,
                text="The Medicare Administrative Contractor cannot be named: "
                "service.site_state and member.state are not stated or not in Appendix 2.",
            )
        )
    return _decision(
        "not_applicable",
        request,
        ref,
        automated=True,
        medicare=medicare,
        missing_facts=missing,
        reasons=reasons,
        trace=evaluation.trace(),
        as_of=as_of,
    )
