"""Renewal requests (policy Section IV; Section I for renewability and periods).

A renewal is decided on the case's facts with the renewal's changed facts
merged over them (``domain.facts.merge_facts``) and keeps the case's track.
It is approved when all hold:

1. the track is renewable, renewals used < max renewals and cycles of the
   track are left after the last one granted (Section I, prior therapy);
2. the window is open: ``end - 30`` .. ``end`` inclusive (earlier: too early,
   with the date it opens; after the end the case is over);
3. the universal criteria and the path's concomitant-therapy requirements
   still hold (disease-state prerequisites, marked ``renewal: skip``, are not
   re-checked);
4. no unacceptable toxicity in the current period (grade >= 4 not met,
   grade 3 clinical review);
5. response or stabilization documented in the current period (progression
   not met; nothing reported unknown -> pend).

The renewal covers the next cycles after the last one granted so far
(``last_cycle``) that fit in the renewal period (``domain.terms``).

Only the events that still count are read: an event withdrawn by a
``retraction`` (entered in error, CONTRACT.md "Clinical event") is not a
toxicity, a response, a weight or a vaccine any more
(``domain.clinical_event.effective_events``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.clinical_event import ClinicalEvent, effective_events
from domain.decision import (
    X12_BY_DETERMINATION,
    Authorization,
    Dosing,
    PolicyRef,
    Reason,
    TraceNode,
)
from domain.dosing import dosing_plan
from domain.engine import compiled, cycle_span, stated
from domain.facts import merge_facts
from domain.operators import EvalContext
from domain.policy import Policy, load_policy
from domain.request import PARequest
from domain.terms import renewal_authorization, renewal_window_opens
from domain.verdict import MET, NAMES, NOT_MET, UNKNOWN

RenewalDetermination = Literal["approve", "review", "pend", "deny", "too_early", "not_renewable"]


class RenewalInput(BaseModel):
    """What Section IV needs: the merged facts, the case's track and current period."""

    request: PARequest
    track: str
    path: str | None = None
    renewals_used: int = Field(ge=0)
    # The last cycle granted so far (Section I: a renewal continues the numbering from
    # it). None: taken from the track's initial cycles and renewals used, as before
    # grants followed prior cycles.
    last_cycle: int | None = Field(default=None, ge=0)
    period_start: date
    period_end: date
    as_of: date
    events: list[ClinicalEvent] = Field(default_factory=list)
    policy_id: str | None = None
    # The case's policy, "policy_id@version" (the caller resolves it; see policy_id).
    policy_ref: str | None = None
    allow_automatic_denial: bool = False


class RenewalDecision(BaseModel):
    determination: RenewalDetermination
    automated: bool
    x12_action: str | None = None
    track: str
    renewal_number: int | None = None
    window_opens: date | None = None
    policy: PolicyRef
    authorization: Authorization | None = None
    dosing: Dosing | None = None
    missing_facts: list[str] = Field(default_factory=list)
    reasons: list[Reason] = Field(default_factory=list)
    trace: TraceNode | None = None


def _node(
    id: str, label: str, ref: str, verdict: int, fact: str | None = None, value: Any = None
) -> TraceNode:
    return TraceNode(
        id=id, label=label, policy_ref=ref, verdict=NAMES[verdict], fact=fact, value=value
    )


def decide_renewal(inp: RenewalInput, policy: Policy | None = None) -> RenewalDecision:
    """Decide a renewal request per Section IV (see the module docstring)."""
    policy = policy or load_policy(inp.policy_id)
    rules = policy.renewal
    track = policy.tracks[inp.track]
    ref = PolicyRef(id=policy.policy.id, version=policy.policy.version)
    number = inp.renewals_used + 1
    base: dict[str, Any] = {"track": inp.track, "policy": ref, "renewal_number": number}

    renewal = track.renewal
    authorization = renewal_authorization(
        policy, inp.track, inp.period_end, inp.renewals_used, inp.last_cycle
    )
    if renewal is None or authorization is None:
        if renewal is None:
            text = f"{track.label}: may not be renewed."
        elif inp.renewals_used >= renewal.max_renewals:
            text = f"{track.label}: the maximum of {renewal.max_renewals} renewals is used."
        else:
            text = (
                f"{track.label}: all {track.total_cycles} cycles are authorized "
                "(duration of authorization exceeded)."
            )
        return RenewalDecision(
            determination="not_renewable",
            automated=True,
            reasons=[Reason(code="not_renewable", policy_ref=track.ref, text=text)],
            trace=_node("IV-1", "Track renewable, renewals left", track.ref, NOT_MET),
            **base,
        )
    opens = renewal_window_opens(policy, inp.period_end)
    if inp.as_of < opens:
        return RenewalDecision(
            determination="too_early",
            automated=True,
            window_opens=opens,
            reasons=[
                Reason(
                    code="renewal_window_not_open",
                    policy_ref=rules.ref,
                    text=f"The renewal window opens {opens.isoformat()} "
                    f"({rules.window_days_before_end} days before the period ends "
                    f"{inp.period_end.isoformat()}).",
                )
            ],
            **base,
        )
    if inp.as_of > inp.period_end:
        return RenewalDecision(
            determination="not_renewable",
            automated=True,
            window_opens=opens,
            reasons=[
                Reason(
                    code="period_ended",
                    policy_ref=rules.ref,
                    text=f"The period ended {inp.period_end.isoformat()}; a new request is "
                    "an initial request (prior cycles counted).",
                )
            ],
            **base,
        )

    events = effective_events(inp.events)
    period_events = [e for e in events if inp.period_start <= e.date <= inp.as_of]
    facts = _facts_with_events(inp.request, period_events, policy)
    criteria, criteria_trace, missing, failed = _criteria(inp, facts, policy)
    toxicity, toxicity_trace, grade_review = _toxicity(period_events, policy)
    response, response_trace = _response(period_events, policy)
    if response == UNKNOWN:
        missing.append(rules.response.fact)
    verdicts = (criteria, toxicity, response)
    trace = TraceNode(
        id="IV",
        label="Renewal criteria",
        policy_ref=rules.ref,
        verdict=NAMES[min(verdicts)],
        children=[
            _node(
                "IV-1", "Track renewable, renewals left", track.ref, MET, value=inp.renewals_used
            ),
            _node("IV-2", "Renewal window open", rules.ref, MET, value=inp.as_of.isoformat()),
            criteria_trace,
            toxicity_trace,
            response_trace,
        ],
    )
    reasons: list[Reason] = []
    if NOT_MET in verdicts:
        reasons.extend(failed)
        if toxicity == NOT_MET:
            reasons.append(_reason("unacceptable_toxicity", toxicity_trace))
        if response == NOT_MET:
            reasons.append(_reason("progression", response_trace))
        return RenewalDecision(
            determination="deny",
            automated=inp.allow_automatic_denial and _auto_deny_allowed(policy, inp.request),
            x12_action=X12_BY_DETERMINATION["deny"],
            reasons=reasons,
            trace=trace,
            **base,
        )
    determination: Literal["approve", "review"]
    if grade_review:
        determination = "review"
        reasons.append(_reason("toxicity_grade_review", toxicity_trace))
    elif UNKNOWN in verdicts:
        return RenewalDecision(
            determination="pend",
            automated=True,
            x12_action=X12_BY_DETERMINATION["pend"],
            missing_facts=list(dict.fromkeys(missing)),
            reasons=[
                Reason(code="missing_fact", policy_ref=rules.ref, text=f"{fact} not stated.")
                for fact in dict.fromkeys(missing)
            ],
            trace=trace,
            **base,
        )
    else:
        determination = "approve"
        reasons.append(
            Reason(code="renewal_criteria_met", policy_ref=rules.ref, text="Renewal criteria met.")
        )
    weight, height = _latest_weight(inp.request, events, inp.as_of)
    first = authorization.first_cycle
    dosing = dosing_plan(
        policy, inp.track, range(first, first + authorization.cycles), weight, height
    )
    reasons.append(
        Reason(
            code="authorization_terms",
            policy_ref=track.ref,
            text=f"Renewal {number} of {authorization.max_renewals}: {authorization.days} days "
            f"{authorization.start.isoformat()} to {authorization.end.isoformat()}, "
            f"{cycle_span(first, authorization.last_cycle)} of {track.total_cycles}, "
            f"{authorization.authorized_units} units; "
            + ("renewable." if authorization.renewable else "not renewable."),
        )
    )
    return RenewalDecision(
        determination=determination,
        automated=determination == "approve",
        x12_action=X12_BY_DETERMINATION[determination],
        authorization=authorization,
        dosing=dosing,
        reasons=reasons,
        trace=trace,
        **base,
    )


def _auto_deny_allowed(policy: Policy, request: PARequest) -> bool:
    rules = policy.lines_of_business.get(request.line_of_business)
    return rules is not None and not rules.human_review_of_adverse_decisions


def _reason(code: str, node: TraceNode) -> Reason:
    return Reason(code=code, policy_ref=node.policy_ref or "IV", text=f"{node.label}: {node.value}")


def _facts_with_events(
    request: PARequest, events: list[ClinicalEvent], policy: Policy
) -> PARequest:
    """Events that stand for facts (a live vaccine given during therapy: U2)."""
    changes = {
        policy.renewal.event_facts[e.type].fact: policy.renewal.event_facts[e.type].value
        for e in events
        if e.type in policy.renewal.event_facts
    }
    return merge_facts(request, changes) if changes else request


def _criteria(
    inp: RenewalInput, facts: PARequest, policy: Policy
) -> tuple[int, TraceNode, list[str], list[Reason]]:
    """IV-3: the universal and concomitant-therapy criteria of the case's path."""
    tree = compiled(policy)
    ctx = EvalContext(start=inp.period_end, prior_cycles=0)
    evaluation = tree.evaluate(facts, ctx, renewal=True)
    cands = [
        c
        for c in tree.candidates
        if c.track == inp.track and (inp.path is None or inp.path in (c.path, c.id))
    ]
    verdict = max((evaluation.verdict(c) for c in cands), default=NOT_MET)
    shown: list[int] = []
    for cand in cands:
        shown.extend(i for i in cand.chain if i not in shown)
    node = TraceNode(
        id="IV-3",
        label="Universal and concomitant-therapy criteria of Section III still met "
        "(disease-state prerequisites not re-checked)",
        policy_ref=policy.renewal.ref,
        verdict=NAMES[verdict],
        children=[tree.trace_of(evaluation, i) for i in shown],
    )
    missing: list[str] = []
    failed: list[Reason] = []
    if verdict == UNKNOWN:
        open_cands = [c for c in cands if evaluation.verdict(c) == UNKNOWN]
        missing = [leaf.fact for leaf in evaluation.unknown_leaves(open_cands) if leaf.fact]
    elif verdict == NOT_MET:
        for leaf in evaluation.failed_leaves(cands):
            failed.append(
                Reason(
                    code=leaf.code or "criterion_not_met",
                    policy_ref=leaf.ref,
                    text=f"{leaf.id} ({leaf.label}): no longer met"
                    f"{stated(leaf, evaluation.values[leaf.index], ctx.start)}.",
                )
            )
    return verdict, node, missing, failed


def _toxicity(events: list[ClinicalEvent], policy: Policy) -> tuple[int, TraceNode, bool]:
    """IV-4: the worst listed toxicity in the period."""
    rule = policy.renewal.toxicity
    worst = None
    for event in events:
        tox = event.toxicity
        if tox is not None and tox.kind in rule.kinds and (worst is None or tox.grade > worst[1]):
            worst = (tox.kind, tox.grade)
    grade = worst[1] if worst else 0
    verdict = NOT_MET if grade >= rule.not_met_from_grade else MET
    review = rule.review_from_grade <= grade < rule.not_met_from_grade
    value = {"kind": worst[0], "grade": worst[1]} if worst else None
    label = (
        f"No unacceptable toxicity (CTCAE grade >= {rule.not_met_from_grade}; "
        f"grade {rule.review_from_grade} goes to clinical review)"
    )
    node = _node("IV-4", label, rule.ref, verdict, fact="events.toxicity", value=value)
    if review:
        note = f"grade {grade}: clinical review (the label interrupts and restarts at grade 3)"
        node = node.model_copy(update={"review_note": note})
    return verdict, node, review


def _response(events: list[ClinicalEvent], policy: Policy) -> tuple[int, TraceNode]:
    """IV-5: the latest response assessment in the period."""
    rule = policy.renewal.response
    latest = None
    for event in sorted(events, key=lambda e: e.date):
        ra = event.response_assessment
        if ra is not None and ra.method in rule.methods:
            latest = ra
    if latest is None:
        verdict = UNKNOWN
    elif latest.result in rule.not_met:
        verdict = NOT_MET
    else:
        verdict = MET if latest.result in rule.met else UNKNOWN
    value = {"result": latest.result, "method": latest.method} if latest else None
    label = "Treatment response or stabilization documented in the period"
    return verdict, _node("IV-5", label, rule.ref, verdict, fact=rule.fact, value=value)


def _latest_weight(
    request: PARequest, events: list[ClinicalEvent], as_of: date
) -> tuple[float | None, float | None]:
    """Section V: the latest reported weight (and height) doses the next cycles."""
    weight, height = request.clinical.weight_kg, request.clinical.height_cm
    for event in sorted(events, key=lambda e: e.date):
        if event.weight is not None and event.date <= as_of:
            weight = event.weight.weight_kg
            height = event.weight.height_cm or height
    return weight, height
