"""What the Temporal UI shows of a case: static summary/details and current details.

No PHI: no names, member ids or dates of birth, only the request id, the
member's keyed hash (MemberRef), the line of business and the case's terms.
The drug and the policy are named from the case's policy data (the case client
has it; the workflow does not need it). Pure functions, used by the case client
(cases/client.py) and inside the workflow.
"""

from __future__ import annotations

from domain.case.state import CaseState
from domain.policy import Policy
from domain.request import PARequest

STATUS_WORDS = {
    "received": "received, being evaluated",
    "pended": "pended: waiting for facts",
    "in_review": "in clinical review",
    "active": "active",
    "renewal_window": "active, renewal window open",
    "denied": "denied",
    "appealed": "appealed",
    "expired": "expired",
    "completed": "completed",
    "withdrawn": "withdrawn",
    "discontinued": "treatment discontinued",
    "not_applicable": "not applicable (Medicare Part B)",
}


def static_summary(request: PARequest, policy: Policy) -> str:
    setting = request.therapy.setting or "setting not stated"
    return (
        f"{policy.policy.drug_name} PA {request.request_id} · {setting} · "
        f"{request.line_of_business} · {request.urgency}"
    )


def static_details(request: PARequest, member_ref: str, policy: Policy) -> str:
    return "\n".join(
        [
            f"**Prior authorization** `{request.request_id}` — {policy.policy.drug}, "
            f"{request.service.hcpcs}",
            "",
            f"- member ref: `{member_ref}`",
            f"- line of business: {request.line_of_business}",
            f"- urgency: {request.urgency}",
            f"- requested setting: {request.therapy.setting or 'not stated'}",
            f"- regimen: {request.therapy.regimen or 'none stated'}",
            f"- policy: {policy.ref}",
        ]
    )


def current_details(state: CaseState, awaiting: str | None = None, closed: bool = False) -> str:
    """A short markdown of where the case stands (``workflow.set_current_details``)."""
    lines = [f"**{STATUS_WORDS.get(state.status, state.status)}**"]
    if state.run_out_until is not None:
        through = state.claims_through()
        if closed:
            lines[0] += f" — run-out ended {state.run_out_until}"
        else:
            lines[0] += f" — run-out until {state.run_out_until}"
            lines.append(
                f"- claims run-out: late claims for dates of service through {through} "
                f"are adjudicated until {state.run_out_until}"
            )
    if state.track:
        lines.append(f"- track: `{state.track}` ({state.path or 'path not stated'})")
    period = state.period
    if period is not None:
        lines.append(
            f"- period {state.period_index + 1}/{len(state.periods)} ({period.kind}): "
            f"{period.start} → {period.end}"
            + (f" (+{period.extended_days} d)" if period.extended_days else "")
        )
        terms = state.terms
        max_renewals = state.max_renewals
        if max_renewals is None:
            max_renewals = terms.max_renewals if terms else 0
        first = state.periods[0].first_cycle
        span = (
            f"cycle {period.first_cycle}"
            if period.cycles == 1
            else f"cycles {period.first_cycle}–{period.last_cycle}"
        )
        lines.append(
            f"- cycles: {state.cycles_started} started of {terms.total_cycles if terms else '?'}"
            + (f" ({first - 1} prior)" if first > 1 else "")
            + f"; this period: {span}; renewals: {state.renewals_used}/{max_renewals}"
        )
        lines.append(f"- units paid: {state.units_paid} of {state.units_authorized} authorized")
    if state.missing_facts and state.status == "pended":
        lines.append(f"- missing: {', '.join(state.missing_facts)}")
    if state.review is not None:
        lines.append(
            f"- review ({state.review.kind}) due {state.review.due_at:%Y-%m-%d %H:%M %Z}"
            + (" — **escalated**" if state.escalated else "")
        )
    if awaiting:
        lines.append(f"- next: {awaiting}")
    if state.last_reason:
        lines.append(f"- last: {state.last_reason}")
    return "\n".join(lines)
