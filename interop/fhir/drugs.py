"""Which of our drugs a FHIR coding names: a HCPCS code or an NDC of a drug some policy of
the registry covers (``domain.coverage``: every policy file of ``domain/policies/``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.coverage import covered_drugs, ndc_matches
from interop.fhir import codes


def drug_of(coding: Any) -> str | None:
    """The HCPCS code of the covered drug ``coding`` names, or None."""
    if not isinstance(coding, dict):
        return None
    code, system = coding.get("code"), coding.get("system")
    for drug in covered_drugs():
        if system == codes.HCPCS and code == drug.hcpcs:
            return drug.hcpcs
        if system == codes.NDC and isinstance(code, str) and ndc_matches(code, drug.ndc_products):
            return drug.hcpcs
    return None


def codings_of(resource: Any) -> Iterable[Any]:
    """The codings of what an order resource asks for (MedicationRequest's medication, a
    ServiceRequest's or DeviceRequest's code), as JSON."""
    if not isinstance(resource, dict):
        return []
    found: list[Any] = []
    for key in ("medicationCodeableConcept", "code", "codeCodeableConcept"):
        concept = resource.get(key)
        if isinstance(concept, dict):
            found += [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    return found


def drug_of_order(resource: Any) -> str | None:
    """The HCPCS code of the covered drug an order resource asks for, or None."""
    for coding in codings_of(resource):
        hcpcs = drug_of(coding)
        if hcpcs is not None:
            return hcpcs
    return None
