"""The case as it stands -> a PAS ClaimResponse and its response Bundle (FHIR.md, "The
case's answer -> ClaimResponse").

Per item an ``adjudication`` of category ``submitted`` carries the ``reviewAction``
extension with the X12 306 code: A1 approved as asked, A6 approved with fewer units
or a shorter period than asked, A4 pended (missing facts, or in clinical review),
A3 denied (only ever a reviewer's decision), C withdrawn, CT for what this plan does
not decide here (Medicare Part B: not applicable, with the MAC; a service no policy
covers). Missing facts travel as a PAS CommunicationRequest, one payload per linkId.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from interop.fhir import codes
from interop.fhir.questionnaire import question_text

APPROVED = frozenset({"active", "renewal_window", "expired", "completed", "discontinued"})
PENDING = frozenset({"received", "pended", "in_review", "appealed"})


@dataclass
class ClaimContext:
    """What the response echoes of the request's Claim (references, never PHI values)."""

    identifier_system: str | None
    identifier_value: str
    claim_reference: str | None
    patient: str | None
    insurer: str | None
    provider: str | None
    claim_type: dict[str, Any] | None
    item_sequences: list[int] = field(default_factory=lambda: [1])
    drug_sequence: int | None = 1
    asked_units: int | None = None
    asked_end: date | None = None
    default_units: int | None = None  # the track's usual grant when the claim asks none


@dataclass
class CaseAnswer:
    """The case as the door read it (door.case_answer)."""

    case_id: str
    status: str
    determination: str | None = None
    missing_facts: list[str] = field(default_factory=list)
    period_start: date | None = None
    period_end: date | None = None
    authorized_units: int | None = None
    reason: str = ""
    reasons: list[dict[str, Any]] = field(default_factory=list)
    appeal_deadline: datetime | None = None
    track: str | None = None
    usual_units: int | None = None


@dataclass
class Adjudication:
    code: str
    disposition: str
    communication: dict[str, Any] | None = None


def adjudicate(ctx: ClaimContext, case: CaseAnswer) -> Adjudication:
    """The X12 306 code and the disposition for the drug's item."""
    status = case.status
    if status == "pended":
        missing = ", ".join(case.missing_facts) or "more information"
        return Adjudication("A4", f"Pended: the plan needs {missing}.")
    if status in PENDING:
        return Adjudication("A4", "Pended: in clinical review.")
    if status == "denied":
        why = "; ".join(
            f"{r.get('text', '')} (policy {r.get('policy_ref', '')})" for r in case.reasons
        )
        rights = "You or the prescriber may appeal this decision"
        if case.appeal_deadline is not None:
            rights += f" until {case.appeal_deadline.date().isoformat()}"
        return Adjudication("A3", f"Not certified: {why or case.reason}. {rights}.")
    if status == "not_applicable":
        return Adjudication("CT", f"Not applicable under this policy: {case.reason}")
    if status == "withdrawn":
        return Adjudication("C", "Cancelled: the request was withdrawn.")
    if status in APPROVED:
        asked = ctx.asked_units if ctx.asked_units is not None else case.usual_units
        fewer = asked is not None and (case.authorized_units or 0) < asked
        shorter = ctx.asked_end is not None and case.period_end is not None
        shorter = shorter and case.period_end < ctx.asked_end  # type: ignore[operator]
        if fewer or shorter:
            return Adjudication(
                "A6",
                f"Certified with modifications: {case.authorized_units} units "
                f"from {case.period_start} to {case.period_end}.",
            )
        return Adjudication(
            "A1",
            f"Certified in total: {case.authorized_units} units "
            f"from {case.period_start} to {case.period_end}.",
        )
    return Adjudication("A4", f"Pended ({status}).")


UNCOVERED = (
    "No policy of this plan's prior-authorization service covers the requested service: "
    "it was not reviewed here and no case was started. Contact the payer."
)


def claim_response(
    ctx: ClaimContext, case: CaseAnswer | None, *, now: datetime | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(ClaimResponse, CommunicationRequest or None) as FHIR JSON, checked by the R4B models."""
    from fhir.resources.R4B.claimresponse import ClaimResponse
    from fhir.resources.R4B.communicationrequest import CommunicationRequest

    now = now or datetime.now(UTC)
    adj = adjudicate(ctx, case) if case is not None else Adjudication("CT", UNCOVERED)
    comm = None
    if case is not None and adj.code == "A4" and case.missing_facts:
        comm = CommunicationRequest.model_validate(_communication(ctx, case, now)).model_dump(
            mode="json", exclude_none=True
        )
    approved = adj.code in ("A1", "A6")
    items = []
    for seq in ctx.item_sequences or [1]:
        ours = case is not None and seq == ctx.drug_sequence
        code = adj.code if ours else "CT"
        review: list[dict[str, Any]] = [_review_code(code)]
        if ours and approved:
            review.insert(0, {"url": "number", "valueString": case.case_id})  # type: ignore[union-attr]
        item: dict[str, Any] = {
            "itemSequence": seq,
            "adjudication": [
                {
                    "category": {"coding": [{"system": codes.ADJUDICATION, "code": "submitted"}]},
                    "extension": [{"url": codes.EXT_REVIEW_ACTION, "extension": review}],
                }
            ],
        }
        if ours and approved:
            item["extension"] = _granted(case)  # type: ignore[arg-type]
        items.append(item)
    body: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": uuid.uuid4().hex,
        "meta": {"profile": [codes.PROFILE_CLAIMRESPONSE]},
        "identifier": [
            {
                "system": codes.RESPONSE_IDENTIFIER_SYSTEM,
                "value": case.case_id if case is not None else f"none-{ctx.identifier_value}",
            }
        ],
        "status": "active",
        "type": ctx.claim_type
        or {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "preauthorization",
        "patient": {"reference": ctx.patient} if ctx.patient else {"display": "the patient"},
        "created": now.isoformat(),
        "insurer": {"reference": ctx.insurer} if ctx.insurer else {"display": "the plan"},
        "request": _request_ref(ctx),
        "outcome": "complete",
        "disposition": adj.disposition,
        "item": items,
    }
    if ctx.provider:
        body["requestor"] = {"reference": ctx.provider}
    if case is not None:
        body["preAuthRef"] = case.case_id
    if approved and case is not None and case.period_start and case.period_end:
        body["preAuthPeriod"] = {
            "start": case.period_start.isoformat(),
            "end": case.period_end.isoformat(),
        }
    if comm is not None:
        body["communicationRequest"] = [{"reference": urn(comm["id"])}]
    model = ClaimResponse.model_validate(body)
    return model.model_dump(mode="json", exclude_none=True), comm


def urn(resource_id: str) -> str:
    """The ``urn:uuid`` fullUrl of a resource we made (its id is a uuid's hex)."""
    return f"urn:uuid:{uuid.UUID(resource_id)}"


def _review_code(code: str) -> dict[str, Any]:
    return {
        "url": codes.EXT_REVIEW_ACTION_CODE,
        "valueCodeableConcept": {
            "coding": [
                {"system": codes.X12_306, "code": code, "display": codes.REVIEW_ACTIONS[code]}
            ]
        },
    }


def _granted(case: CaseAnswer) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if case.period_start and case.period_end:
        out.append(
            {
                "url": codes.EXT_ITEM_PREAUTH_PERIOD,
                "valuePeriod": {
                    "start": case.period_start.isoformat(),
                    "end": case.period_end.isoformat(),
                },
            }
        )
    if case.authorized_units is not None:
        out.append(
            {
                "url": codes.EXT_ITEM_AUTHORIZED_DETAIL,
                "extension": [
                    {
                        "url": "quantity",
                        "valueQuantity": {"value": case.authorized_units, "unit": "units"},
                    }
                ],
            }
        )
    return out


def _request_ref(ctx: ClaimContext) -> dict[str, Any]:
    ref: dict[str, Any] = {"identifier": {"value": ctx.identifier_value}}
    if ctx.identifier_system:
        ref["identifier"]["system"] = ctx.identifier_system
    if ctx.claim_reference:
        ref["reference"] = ctx.claim_reference
    return ref


def _communication(ctx: ClaimContext, case: CaseAnswer, now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "CommunicationRequest",
        "id": uuid.uuid4().hex,
        "meta": {"profile": [codes.PROFILE_COMMUNICATIONREQUEST]},
        "status": "active",
        "category": [{"text": "Missing facts for prior authorization"}],
        "authoredOn": now.isoformat(),
        "subject": {"reference": ctx.patient} if ctx.patient else None,
        "payload": [
            {
                "extension": [
                    {
                        "url": "urn:priorauth:fhir/linkId",
                        "valueString": path,
                    }
                ],
                "contentString": f"{path}: {question_text(path)}",
            }
            for path in case.missing_facts
        ],
    }


def response_bundle(
    claim_response_json: dict[str, Any],
    extra: list[tuple[str, dict[str, Any]]],
    *,
    inquiry: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The PAS response (or inquiry response) Bundle: ClaimResponse first, then ``extra``
    entries as (fullUrl, resource)."""
    from fhir.resources.R4B.bundle import Bundle

    now = now or datetime.now(UTC)
    profile = codes.PROFILE_INQUIRY_RESPONSE_BUNDLE if inquiry else codes.PROFILE_RESPONSE_BUNDLE
    entries = [
        {
            "fullUrl": urn(claim_response_json["id"]),
            "resource": claim_response_json,
        }
    ]
    entries += [{"fullUrl": url, "resource": res} for url, res in extra]
    body = {
        "resourceType": "Bundle",
        "meta": {"profile": [profile]},
        "identifier": {"system": "urn:priorauth:fhir/bundle", "value": uuid.uuid4().hex},
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": entries,
    }
    return Bundle.model_validate(body).model_dump(mode="json", exclude_none=True)
