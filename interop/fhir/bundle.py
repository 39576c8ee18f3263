"""A PAS request or inquiry Bundle: parsed with the R4B models, checked against what
PAS requires of it, and indexed so references resolve inside it.

Checks beyond the FHIR model (``fhir.resources.R4B``, which refuses unknown elements
and malformed values): the bundle is a ``collection`` with ``identifier``,
``timestamp`` and at least one entry, every entry has a ``fullUrl`` and a resource of
a type a PAS bundle may carry, the first entry is the Claim, the Claim has what the
PAS Claim profile requires (identifier value, status, type, use = preauthorization,
patient, created, insurer, provider, priority, at least one item), and every
reference the Claim makes (patient, insurer, provider, coverage, care team, item
location and requested service, supporting info) resolves to an entry. Each failure
is an issue naming the element (FHIRPath); nothing is started when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from interop.fhir import codes
from interop.fhir.outcome import FhirError, Issue, invalid, model_issues

#: What an entry of a PAS request or inquiry bundle may be (PAS 2.2.1 profiles, the
#: DTR QuestionnaireResponse and the clinical resources a Claim's supportingInfo cites).
SUPPORTED_ENTRY_TYPES = frozenset(
    {
        "Claim",
        "Patient",
        "Coverage",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "Location",
        "Encounter",
        "ServiceRequest",
        "DeviceRequest",
        "MedicationRequest",
        "NutritionOrder",
        "Medication",
        "DocumentReference",
        "Binary",
        "QuestionnaireResponse",
        "Questionnaire",
        "Observation",
        "Condition",
        "Procedure",
        "RelatedPerson",
        "Device",
        "Communication",
        "Provenance",
    }
)

CLAIM = "Bundle.entry[0].resource"


@dataclass
class ParsedBundle:
    """A validated bundle: its model, the Claim, and its entries by every name they go by."""

    bundle: Any
    claim: Any
    entries: dict[str, Any] = field(default_factory=dict)

    def resolve(self, reference: str | None) -> Any | None:
        if not reference:
            return None
        found = self.entries.get(reference)
        if found is not None:
            return found
        parts = reference.rstrip("/").split("/")
        return self.entries.get("/".join(parts[-2:])) if len(parts) >= 2 else None

    def of_type(self, resource_type: str) -> list[Any]:
        seen: dict[int, Any] = {}
        for entry in self.bundle.entry or []:
            res = entry.resource
            if res is not None and res.get_resource_type() == resource_type:
                seen[id(res)] = res
        return list(seen.values())


def parse_bundle(data: Any, *, inquiry: bool = False) -> ParsedBundle:
    """``data`` (parsed JSON) as a PAS request (or inquiry) bundle, or ``FhirError``."""
    if not isinstance(data, dict):
        raise invalid("Bundle", "the body is not a FHIR resource (a JSON object)", "structure")
    kind = data.get("resourceType")
    if kind != "Bundle":
        raise invalid(
            "resourceType",
            "this operation takes a PAS Bundle; this resource type is not supported here",
            "not-supported",
        )
    _entry_types(data)
    from fhir.resources.R4B.bundle import Bundle

    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        raise FhirError(model_issues("Bundle", exc.errors(include_url=False))) from None
    issues = _bundle_issues(bundle)
    if issues:
        raise FhirError(issues)
    # _bundle_issues refused a bundle without entries, an entry without a fullUrl or a
    # resource: what follows reads them as there.
    entries = bundle.entry or []
    parsed = ParsedBundle(bundle=bundle, claim=entries[0].resource)
    for entry in entries:
        res = entry.resource
        assert entry.fullUrl is not None and res is not None
        parsed.entries[entry.fullUrl] = res
        if res.id:
            parsed.entries[f"{res.get_resource_type()}/{res.id}"] = res
    issues = _claim_issues(parsed.claim, inquiry) + _reference_issues(parsed)
    if issues:
        raise FhirError(issues)
    return parsed


def _entry_types(data: dict[str, Any]) -> None:
    entries = data.get("entry")
    if not isinstance(entries, list):
        return  # the model names it
    issues = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        kind = res.get("resourceType") if isinstance(res, dict) else None
        if isinstance(kind, str) and kind not in SUPPORTED_ENTRY_TYPES:
            issues.append(
                Issue(
                    f"Bundle.entry[{i}].resource",
                    "a PAS bundle does not carry this resource type",
                    "not-supported",
                )
            )
    if issues:
        raise FhirError(issues)


def _bundle_issues(bundle: Any) -> list[Issue]:
    issues = []
    if bundle.type != "collection":
        issues.append(Issue("Bundle.type", "a PAS bundle is a 'collection'", "value"))
    if bundle.identifier is None:
        issues.append(Issue("Bundle.identifier", "is required (PAS bundle)", "required"))
    if bundle.timestamp is None:
        issues.append(Issue("Bundle.timestamp", "is required (PAS bundle)", "required"))
    entries = bundle.entry or []
    if not entries:
        issues.append(Issue("Bundle.entry", "a PAS bundle has at least one entry", "required"))
        return issues
    for i, entry in enumerate(entries):
        if not entry.fullUrl:
            issues.append(Issue(f"Bundle.entry[{i}].fullUrl", "is required", "required"))
        if entry.resource is None:
            issues.append(Issue(f"Bundle.entry[{i}].resource", "is required", "required"))
    first = entries[0].resource
    if first is not None and first.get_resource_type() != "Claim":
        issues.append(
            Issue("Bundle.entry[0].resource", "the first entry of a PAS bundle is the Claim")
        )
    return issues


def _claim_issues(claim: Any, inquiry: bool) -> list[Issue]:
    issues = []
    ids = claim.identifier or []
    if not ids or not ids[0].value:
        issues.append(Issue(f"{CLAIM}.identifier[0].value", "is required (PAS Claim)", "required"))
    for name in ("status", "type", "patient", "created", "insurer", "provider", "priority"):
        if getattr(claim, name) is None:
            issues.append(Issue(f"{CLAIM}.{name}", "is required (PAS Claim)", "required"))
    if claim.use != "preauthorization":
        issues.append(Issue(f"{CLAIM}.use", "a PAS Claim is a 'preauthorization'", "value"))
    if not inquiry and not claim.item:
        issues.append(Issue(f"{CLAIM}.item", "a PAS Claim has at least one item", "required"))
    return issues


def _reference_issues(parsed: ParsedBundle) -> list[Issue]:
    claim = parsed.claim
    refs: list[tuple[str, Any]] = [
        (f"{CLAIM}.patient", claim.patient),
        (f"{CLAIM}.insurer", claim.insurer),
        (f"{CLAIM}.provider", claim.provider),
    ]
    refs += [(f"{CLAIM}.insurance[{i}].coverage", x.coverage) for i, x in _each(claim.insurance)]
    refs += [(f"{CLAIM}.careTeam[{i}].provider", x.provider) for i, x in _each(claim.careTeam)]
    refs += [
        (f"{CLAIM}.supportingInfo[{i}].valueReference", x.valueReference)
        for i, x in _each(claim.supportingInfo)
    ]
    for i, item in _each(claim.item):
        refs.append((f"{CLAIM}.item[{i}].locationReference", item.locationReference))
        for j, ext in _each(item.extension):
            if ext.url == codes.EXT_REQUESTED_SERVICE:
                where = f"{CLAIM}.item[{i}].extension[{j}].valueReference"
                refs.append((where, ext.valueReference))
    issues = []
    for where, ref in refs:
        if ref is None or not ref.reference:
            continue  # absent (required ones are named above) or by identifier only
        if parsed.resolve(ref.reference) is None:
            issues.append(
                Issue(f"{where}.reference", "refers to a resource that is not in the bundle")
            )
    return issues


def _each(items: Any) -> list[tuple[int, Any]]:
    return list(enumerate(items or []))
