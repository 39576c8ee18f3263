"""CRD (CDS Hooks): discovery and the ``order-sign`` / ``order-select`` services.

A draft MedicationRequest coded J9039 or a Blincyto NDC gets a card and the
``coverage-information`` system action: ``pa-needed`` = ``satisfied`` with the
authorization number when the member has an active authorization covering the
order's date, else ``auth-needed``; ``doc-needed`` = ``clinical`` with the DTR
Questionnaire's canonical URL. Other orders get no card. The member is read from the
prefetched Coverage (``subscriberId``) or the Patient's ``MB`` identifier, and looked
up by its keyed hash (``member_ref``), never stored or logged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from api.fhir import codes
from api.fhir.outcome import FhirError, Issue
from api.fhir.questionnaire import canonical_url
from domain.coverage import covered_drugs, ndc_matches

HOOKS = ("order-sign", "order-select")
EXT_COVERAGE_INFORMATION = (
    "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
)


def discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": hook,
                "id": f"blincyto-{hook}",
                "title": "Blincyto prior authorization (CRD)",
                "description": "Says whether a Blincyto order needs prior authorization.",
                "prefetch": {
                    "patient": "Patient/{{context.patientId}}",
                    "coverage": "Coverage?patient={{context.patientId}}&status=active",
                },
            }
            for hook in HOOKS
        ]
    }


def blincyto_orders(body: dict[str, Any]) -> list[dict[str, Any]]:
    context = body.get("context")
    if not isinstance(context, dict):
        raise FhirError([Issue("context", "is required (CDS Hooks request)", "required")])
    drafts = context.get("draftOrders") or {}
    entries = drafts.get("entry") if isinstance(drafts, dict) else None
    orders = []
    for entry in entries or []:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") != "MedicationRequest":
            continue
        concept = res.get("medicationCodeableConcept") or {}
        for coding in concept.get("coding") or []:
            if _is_blincyto(coding):
                orders.append(res)
                break
    return orders


def _is_blincyto(coding: dict[str, Any]) -> bool:
    code, system = coding.get("code"), coding.get("system")
    for drug in covered_drugs():
        if system == codes.HCPCS and code == drug.hcpcs:
            return True
        if system == codes.NDC and isinstance(code, str) and ndc_matches(code, drug.ndc_products):
            return True
    return False


def member_id(body: dict[str, Any]) -> str | None:
    prefetch = body.get("prefetch") or {}
    coverage = prefetch.get("coverage") or {}
    if coverage.get("resourceType") == "Bundle":
        coverage = next(
            (e.get("resource") for e in coverage.get("entry") or [] if e.get("resource")), {}
        )
    if isinstance(coverage, dict) and coverage.get("subscriberId"):
        return coverage["subscriberId"]
    patient = prefetch.get("patient") or {}
    for ident in patient.get("identifier") or [] if isinstance(patient, dict) else []:
        kinds = (ident.get("type") or {}).get("coding") or []
        if any(c.get("code") == "MB" for c in kinds) and ident.get("value"):
            return ident["value"]
    return None


def order_date(order: dict[str, Any]) -> date:
    dispense = order.get("dispenseRequest") or {}
    start = (dispense.get("validityPeriod") or {}).get("start")
    text = start or order.get("authoredOn")
    try:
        return date.fromisoformat(str(text)[:10]) if text else datetime.now(UTC).date()
    except ValueError:
        raise FhirError([Issue("MedicationRequest.authoredOn", "is not a date")]) from None


def card(order: dict[str, Any], authorization: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The card and the ``coverage-information`` system action for one order."""
    info: list[dict[str, Any]] = [
        {"url": "coverage", "valueReference": {"reference": "Coverage"}},
        {"url": "covered", "valueCode": "covered"},
        {"url": "pa-needed", "valueCode": "satisfied" if authorization else "auth-needed"},
        {"url": "date", "valueDate": datetime.now(UTC).date().isoformat()},
    ]
    if authorization:
        info.append({"url": "satisfied-pa-id", "valueString": authorization})
    else:
        info += [
            {"url": "doc-needed", "valueCode": "clinical"},
            {"url": "questionnaire", "valueCanonical": canonical_url()},
        ]
    updated = {
        **order,
        "extension": [
            *(order.get("extension") or []),
            {"url": EXT_COVERAGE_INFORMATION, "extension": info},
        ],
    }
    summary = (
        f"Prior authorization on file ({authorization})"
        if authorization
        else "Prior authorization needed for Blincyto: document with the questionnaire"
    )
    card = {
        "summary": summary,
        "indicator": "info",
        "source": {"label": "Blincyto prior authorization"},
    }
    action = {
        "type": "update",
        "description": "Add the coverage information to the order",
        "resource": updated,
    }
    return card, action
