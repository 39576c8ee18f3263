"""The human-readable text of each notice, from its payload (pure, no I/O).

The workflow sends a ``kind`` and a ``payload``; :func:`render` turns them into
the text written to the outbox and delivered, under the case's policy: every
word and number that is not the case's own (the drug's name, its HCPCS code
and billable unit, the unit limit and its window, the Medicare text) comes from
the policy data, so a second drug's notices need no code. It is lenient: a
missing key reads "not stated" or its sentence is left out, never an
exception. Text never carries names, member ids or dates of birth: nothing
here reads them.

Payload keys per kind (all optional; dates ISO ``YYYY-MM-DD``):

- ``approval``, ``renewal_approved``: ``track``, ``period_start``,
  ``period_end``, ``cycles``, ``first_cycle``, ``authorized_units``,
  ``max_units_per_42_days`` (the authorization's unit limit per window, from the
  policy data, whatever the policy's window; the window's days are the policy's),
  ``renewals_left``, ``policy_ref``.
  (Sections I and II: period, cycles, units; the cycles are named by number,
  and an initial approval that starts after cycle 1 says the earlier cycles
  count as prior therapy.)
- ``pend``: ``missing_facts`` (dotted request paths), ``deadline``,
  ``reasons`` (optional). (Section III, rule 3: exactly the unknown facts.)
- ``review_assignment``: ``reviewer_id`` or ``queue``, ``due_by``,
  ``urgency``, ``stage`` (initial, renewal, appeal), ``reasons``.
- ``denial``: ``reasons`` (list of ``{code, policy_ref, text}``),
  ``appeal_deadline``, ``appeal_window_days`` (0 with no deadline: decided on
  appeal, no further appeal), ``reviewer_id``.
- ``renewal_refused``: ``reasons``, ``window_opens`` (a renewal asked for too
  early, Section IV.2), ``appeal_deadline``, ``appeal_window_days``.
- ``not_applicable``: ``medicare`` (``{jurisdiction, contractor}``),
  ``reasons``. (Appendix 2.)
- ``renewal_window_open``: ``period_end``, ``window_opens``,
  ``renewals_used``, ``max_renewals``. (Section IV.2.)
- ``renewal_reminder``: ``period_end``, ``days_left``.
- ``expiry``, ``completed``: ``period_end``, ``cycles_total`` (cycles started
  under the case), ``last_cycle`` (the last cycle authorized, by number).
- ``escalation``: ``stage``, ``due_by``, ``hours_left``, ``urgency``.
  (Decision clocks.)
- ``appeal_received``: ``reason``, ``due_by``.
- ``withdrawn``, ``discontinued``: ``date``, ``reason`` (for ``discontinued``
  the event type: ``discontinued`` or ``death``).
- ``period_extended``: ``days``, ``period_end``, ``rationale``, ``reviewer_id``.
- ``review_extended``: ``stage``, ``days``, ``due_by``, ``reason``, ``reviewer_id``,
  ``policy_ref``. (Decision clocks: a reviewer extended the review's clock once,
  CMS-0057-F; issue #17.)
- ``reinstated``: ``retracted`` (the event type withdrawn: ``death`` or
  ``discontinued``), ``status``, ``period_end``, ``policy_ref``. (CONTRACT.md,
  Clinical event: a retraction; no date of death or other clinical detail.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.policy import Policy

NOT_STATED = "not stated"

#: What each fact of a pend asks for; ``{drug}`` is the policy's generic name.
FACT_LABELS: dict[str, str] = {
    "diagnosis.icd10_codes": "ICD-10 diagnosis codes",
    "diagnosis.b_cell_precursor": "whether the ALL is B-cell precursor",
    "diagnosis.infant_all": "whether this is infant ALL",
    "diagnosis.ph_status": "Philadelphia chromosome (BCR::ABL1) status",
    "diagnosis.mrd_percent": "measurable residual disease (MRD) level in percent",
    "diagnosis.complete_remission": "complete remission status (first, second, …)",
    "diagnosis.relapsed_or_refractory": "whether the disease is relapsed or refractory",
    "diagnosis.tki_status": "response to tyrosine kinase inhibitors",
    "therapy.setting": "treatment setting",
    "therapy.combined_with": "therapies given with {drug}",
    "therapy.regimen": "treatment regimen / protocol",
    "therapy.tki": "the tyrosine kinase inhibitor used",
    "therapy.prior_blinatumomab_cycles": "{drug} cycles already given",
    "clinical.weight_kg": "weight in kg",
    "clinical.height_cm": "height in cm",
    "clinical.live_vaccine_within_2_weeks": "live vaccine in the 2 weeks before starting",
    "clinical.live_vaccine_planned": "live vaccine planned during therapy",
    "member.date_of_birth": "the patient's date of birth",
    "service.requested_start": "the requested start date",
}


def _v(payload: Mapping[str, Any], key: str, default: Any = NOT_STATED) -> Any:
    value = payload.get(key)
    return default if value is None or value == "" else value


def fact_label(path: str, policy: Policy) -> str:
    label = FACT_LABELS.get(path)
    return f"{label.format(drug=policy.policy.generic_name)} ({path})" if label else path


def _reasons(payload: Mapping[str, Any]) -> list[str]:
    lines = []
    for reason in payload.get("reasons") or []:
        if isinstance(reason, Mapping):
            text = reason.get("text") or reason.get("code") or "reason not stated"
            ref = reason.get("policy_ref")
            lines.append(f"- {text}" + (f" (policy {ref})" if ref else ""))
        else:
            lines.append(f"- {reason}")
    return lines


def _cycle_numbers(p: Mapping[str, Any]) -> str:
    """The numbers the period covers, `` (cycles 4 to 6)`` or `` (cycle 9)`` (Section I:
    the numbering continues after prior cycles and earlier periods); "" when not stated."""
    first, count = p.get("first_cycle"), p.get("cycles")
    if not isinstance(first, int) or first < 1:
        return ""
    if not isinstance(count, int) or count < 1:
        return f" (starting at cycle {first})"
    return f" (cycle {first})" if count == 1 else f" (cycles {first} to {first + count - 1})"


def _initial_approval(p: Mapping[str, Any], policy: Policy) -> list[str]:
    lines = _approval(p, policy)
    first = p.get("first_cycle")
    if isinstance(first, int) and first > 1:
        prior = "Cycle 1 counts" if first == 2 else f"Cycles 1 to {first - 1} count"
        lines.insert(
            2,
            f"{prior} as {policy.policy.generic_name} already given: this authorization "
            f"continues the numbering (policy Section {policy.prior_therapy.ref}, prior therapy).",
        )
    return lines


def _approval(p: Mapping[str, Any], policy: Policy) -> list[str]:
    units = policy.units
    hcpcs = " or ".join(policy.billing.hcpcs)
    limit = _v(p, "max_units_per_42_days", units.max_units_per_window)
    lines = [
        f"Authorized period: {_v(p, 'period_start')} to {_v(p, 'period_end')}.",
        f"Cycles covered: {_v(p, 'cycles')}{_cycle_numbers(p)}.",
        f"Units authorized (HCPCS {hcpcs}, {policy.hcpcs_unit}): "
        f"{_v(p, 'authorized_units')} for the period, at most {limit} in any "
        f"{units.window_days} consecutive days (policy Section {units.ref}).",
    ]
    if p.get("track"):
        lines.append(f"Authorization track: {p['track']} (policy Section I).")
    if p.get("renewals_left") is not None:
        lines.append(f"Renewals left: {p['renewals_left']}.")
    return lines


def _pend(p: Mapping[str, Any], policy: Policy) -> list[str]:
    missing = p.get("missing_facts") or []
    lines = ["We need the following information to decide this request:"]
    lines += [f"- {fact_label(str(f), policy)}" for f in missing] or [f"- {NOT_STATED}"]
    lines.append(
        f"Please send it by {_v(p, 'deadline')}. Without it the request goes to "
        "clinical review on the information we have."
    )
    return lines + _reasons(p)


def _review(p: Mapping[str, Any]) -> list[str]:
    who = p.get("reviewer_id") or p.get("queue") or "the clinical review queue"
    lines = [
        f"The {_v(p, 'stage', 'initial')} request was assigned for clinical review to {who}.",
        f"Urgency: {_v(p, 'urgency')}. Decision due by {_v(p, 'due_by')}.",
    ]
    reasons = _reasons(p)
    return lines + (["Why it needs review:", *reasons] if reasons else [])


def _appeal_rights(p: Mapping[str, Any]) -> str:
    window = p.get("appeal_window_days")
    if not p.get("appeal_deadline") and window == 0:
        return "This decision was made on appeal: no further appeal to the plan is available."
    return (
        "Your appeal rights: you or the prescriber may appeal this decision"
        + (f" within {window} days" if window else "")
        + f", by {_v(p, 'appeal_deadline')}. The appeal is decided by a reviewer other "
        "than the one who made this decision. Send any records that support the request."
    )


def _denial(p: Mapping[str, Any]) -> list[str]:
    lines = ["The request is not approved, for these reasons:"]
    lines += _reasons(p) or [f"- {NOT_STATED}"]
    return [*lines, _appeal_rights(p)]


def _renewal_refused(p: Mapping[str, Any]) -> list[str]:
    lines = ["The renewal is not approved, for these reasons:"]
    lines += _reasons(p) or [f"- {NOT_STATED}"]
    if p.get("window_opens"):
        lines.append(f"A renewal can be requested from {p['window_opens']} (policy Section IV).")
    if p.get("appeal_deadline"):
        lines.append(_appeal_rights(p))
    return lines


def _not_applicable(p: Mapping[str, Any], policy: Policy) -> list[str]:
    found = p.get("medicare")
    medicare: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    lines = [
        f"This policy does not apply to Medicare Part B (policy {policy.medicare.ref}). "
        f"{policy.medicare.text}",
        f"Medicare Administrative Contractor: jurisdiction {_v(medicare, 'jurisdiction')}, "
        f"{_v(medicare, 'contractor')}.",
    ]
    return lines + _reasons(p)


def _window_open(p: Mapping[str, Any]) -> list[str]:
    return [
        f"The renewal window is open from {_v(p, 'window_opens')} until the period ends on "
        f"{_v(p, 'period_end')} (policy Section IV).",
        f"Renewals used: {_v(p, 'renewals_used', 0)} of {_v(p, 'max_renewals')}.",
        "Send a renewal request with the response assessment and any toxicity this period.",
    ]


def _reminder(p: Mapping[str, Any]) -> list[str]:
    return [
        f"Reminder: the authorized period ends on {_v(p, 'period_end')} "
        f"({_v(p, 'days_left')} days left). No renewal request has been received yet."
    ]


def _expiry(p: Mapping[str, Any]) -> list[str]:
    return [f"The authorization ended on {_v(p, 'period_end')}. Claims after it are not covered."]


def _completed(p: Mapping[str, Any]) -> list[str]:
    last = p.get("last_cycle")
    through = f", through cycle {last}," if isinstance(last, int) and last > 0 else ""
    started = p.get("cycles_total")
    count = f" ({started} started under this authorization)" if started is not None else ""
    return [
        f"The authorization is complete: every allowed cycle{through} was authorized{count}; "
        f"the last period ended on {_v(p, 'period_end')} (policy Section I)."
    ]


def _escalation(p: Mapping[str, Any]) -> list[str]:
    return [
        f"Escalation: the {_v(p, 'stage', 'review')} decision on this "
        f"{_v(p, 'urgency')} request is due by {_v(p, 'due_by')} "
        f"({_v(p, 'hours_left')} hours left)."
    ]


def _appeal(p: Mapping[str, Any]) -> list[str]:
    return [
        "Your appeal was received and assigned to a reviewer other than the one who denied.",
        f"Reason given: {_v(p, 'reason')}. Decision due by {_v(p, 'due_by')}.",
    ]


def _withdrawn(p: Mapping[str, Any]) -> list[str]:
    return [f"The request was withdrawn on {_v(p, 'date')}."]


def _discontinued(p: Mapping[str, Any]) -> list[str]:
    what = "A death was" if p.get("reason") == "death" else "Discontinued treatment was"
    return [
        f"{what} reported for {_v(p, 'date')}; the case is closed and the authorization "
        "does not cover later dates of service."
    ]


def _extended(p: Mapping[str, Any]) -> list[str]:
    return [
        f"The current period was extended by {_v(p, 'days')} days; it now ends on "
        f"{_v(p, 'period_end')}. Rationale: {_v(p, 'rationale')}."
    ]


def _review_extended(p: Mapping[str, Any], policy: Policy) -> list[str]:
    due = str(p.get("due_by") or NOT_STATED)
    lines = [
        f"The clinical reviewer needs more time to decide the {_v(p, 'stage', 'initial')} "
        f"{policy.policy.generic_name} request: the decision is now due by {due}, "
        f"{_v(p, 'days')} days later than before.",
        f"Reason: {_v(p, 'reason')}.",
        "The review timeframe is extended once at most"
        + (f" ({p['policy_ref']})." if p.get("policy_ref") else "."),
    ]
    if p.get("reviewer_id"):
        lines.append(f"Reviewer: {p['reviewer_id']}.")
    return lines


def _reinstated(p: Mapping[str, Any]) -> list[str]:
    what = "death" if p.get("retracted") == "death" else "discontinuation of treatment"
    lines = [
        f"The {what} reported for this patient was entered in error and has been withdrawn.",
        f"The authorization is {_v(p, 'status', 'active')} again"
        + (f" until {p['period_end']}" if p.get("period_end") else "")
        + ".",
        "Claim lines denied because of the withdrawn report may be resubmitted as new claims.",
    ]
    if p.get("policy_ref"):
        lines.append(f"({p['policy_ref']}.)")
    return lines


#: Each kind's title; ``{drug}`` is the policy's drug name.
TITLES: dict[str, str] = {
    "approval": "{drug} prior authorization approved",
    "pend": "{drug} prior authorization: information needed",
    "review_assignment": "{drug} prior authorization: clinical review assigned",
    "denial": "{drug} prior authorization denied",
    "not_applicable": "{drug} prior authorization: policy not applicable (Medicare Part B)",
    "renewal_window_open": "{drug} authorization: renewal window open",
    "renewal_reminder": "{drug} authorization: renewal reminder",
    "renewal_approved": "{drug} authorization renewed",
    "renewal_refused": "{drug} authorization renewal not approved",
    "expiry": "{drug} authorization expired",
    "completed": "{drug} authorization completed",
    "escalation": "{drug} prior authorization: decision clock escalation",
    "appeal_received": "{drug} prior authorization: appeal received",
    "withdrawn": "{drug} prior authorization withdrawn",
    "discontinued": "{drug} authorization: treatment discontinued",
    "period_extended": "{drug} authorization period extended",
    "review_extended": "{drug} prior authorization: review timeframe extended",
    "reinstated": "{drug} authorization reinstated",
}


def _no_body(_payload: Mapping[str, Any]) -> list[str]:
    return []


#: The kinds whose text reads the policy's data beyond its drug name.
_WITH_POLICY: dict[str, Callable[[Mapping[str, Any], Policy], list[str]]] = {
    "approval": _initial_approval,
    "renewal_approved": _approval,
    "pend": _pend,
    "not_applicable": _not_applicable,
    "review_extended": _review_extended,
}

BODIES: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "review_assignment": _review,
    "denial": _denial,
    "renewal_refused": _renewal_refused,
    "renewal_window_open": _window_open,
    "renewal_reminder": _reminder,
    "expiry": _expiry,
    "completed": _completed,
    "escalation": _escalation,
    "appeal_received": _appeal,
    "withdrawn": _withdrawn,
    "discontinued": _discontinued,
    "period_extended": _extended,
    "reinstated": _reinstated,
}


def title(kind: str, policy: Policy) -> str:
    """The notice's title line, naming the policy's drug."""
    return TITLES.get(kind, "{drug} prior authorization: " + kind).format(
        drug=policy.policy.drug_name
    )


def render(
    kind: str, payload: Mapping[str, Any] | None, case_id: str = "", *, policy: Policy
) -> str:
    """The notice as plain text under the case's ``policy``: a title line, the case
    reference, then the body."""
    payload = payload or {}
    if kind in _WITH_POLICY:
        body = _WITH_POLICY[kind](payload, policy)
    else:
        body = BODIES.get(kind, _no_body)(payload)
    ref = payload.get("request_id") or case_id
    head = [title(kind, policy)] + ([f"Reference: {ref}"] if ref else [])
    return "\n".join([*head, "", *body]).rstrip() + "\n"
