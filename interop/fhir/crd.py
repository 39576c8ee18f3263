"""CRD (CDS Hooks): discovery and the ``order-sign`` / ``order-select`` services.

A draft MedicationRequest coded with the HCPCS code or an NDC of any drug the policy
registry covers gets a card and the ``coverage-information`` system action:
``pa-needed`` = ``satisfied`` with the authorization number when the member has an
active authorization for that drug covering the order's date, else ``auth-needed``;
``doc-needed`` = ``clinical`` with the canonical URL of that drug's DTR Questionnaire.
The card names the drug from its policy. Other orders get no card. The member is read from the
prefetched Coverage (``subscriberId``) or the Patient's ``MB`` identifier, and looked
up by its keyed hash (``member_ref``), never stored or logged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from domain.policy import Policy
from interop.fhir.drugs import drug_of_order
from interop.fhir.fact_catalog import catalog_for
from interop.fhir.outcome import FhirError, Issue
from interop.fhir.questionnaire import canonical_url

HOOKS = ("order-sign", "order-select")
EXT_COVERAGE_INFORMATION = (
    "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
)


def discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": hook,
                "id": f"priorauth-{hook}",
                "title": "Prior authorization (CRD)",
                "description": (
                    "Says whether an order of a drug our policies cover needs prior authorization."
                ),
                "prefetch": {
                    "patient": "Patient/{{context.patientId}}",
                    "coverage": "Coverage?patient={{context.patientId}}&status=active",
                },
            }
            for hook in HOOKS
        ]
    }


def covered_orders(body: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The draft orders of a drug some policy covers, each with its HCPCS code."""
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
        hcpcs = drug_of_order(res)
        if hcpcs is not None:
            orders.append((res, hcpcs))
    return orders


def member_id(body: dict[str, Any]) -> str | None:
    prefetch = body.get("prefetch") or {}
    coverage = prefetch.get("coverage") or {}
    if coverage.get("resourceType") == "Bundle":
        coverage = next(
            (e.get("resource") for e in coverage.get("entry") or [] if e.get("resource")), {}
        )
    if isinstance(coverage, dict) and coverage.get("subscriberId"):
        return str(coverage["subscriberId"])
    patient = prefetch.get("patient") or {}
    for ident in patient.get("identifier") or [] if isinstance(patient, dict) else []:
        kinds = (ident.get("type") or {}).get("coding") or []
        if any(c.get("code") == "MB" for c in kinds) and ident.get("value"):
            return str(ident["value"])
    return None


def order_date(order: dict[str, Any]) -> date:
    dispense = order.get("dispenseRequest") or {}
    start = (dispense.get("validityPeriod") or {}).get("start")
    text = start or order.get("authoredOn")
    try:
        return date.fromisoformat(str(text)[:10]) if text else datetime.now(UTC).date()
    except ValueError:
        raise FhirError([Issue("MedicationRequest.authoredOn", "is not a date")]) from None


def card(
    order: dict[str, Any], authorization: str | None, policy: Policy
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The card and the ``coverage-information`` system action for one order of the drug
    ``policy`` covers."""
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
            {"url": "questionnaire", "valueCanonical": canonical_url(catalog_for(policy))},
        ]
    updated = {
        **order,
        "extension": [
            *(order.get("extension") or []),
            {"url": EXT_COVERAGE_INFORMATION, "extension": info},
        ],
    }
    drug = policy.policy.drug_name
    summary = (
        f"Prior authorization on file ({authorization})"
        if authorization
        else f"Prior authorization needed for {drug}: document with the questionnaire"
    )
    card = {
        "summary": summary,
        "indicator": "info",
        "source": {"label": f"{drug} prior authorization"},
    }
    action = {
        "type": "update",
        "description": "Add the coverage information to the order",
        "resource": updated,
    }
    return card, action
