"""A PAS request bundle -> the CONTRACT request (FHIR.md, "Request bundle -> the CONTRACT
request"), with where each field was read from, so a refusal names the FHIR element.

The drug item is the first Claim item coding a drug some policy covers (HCPCS, or an
NDC on the item or on the MedicationRequest its ``requestedService`` references). A
claim with no such item is not ours to decide: ``covered`` is False and no request is
built (the door answers it without starting anything).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from domain.coverage import covered_drugs, ndc_matches
from domain.request import PARequest
from interop.fhir import codes
from interop.fhir.bundle import CLAIM, ParsedBundle
from interop.fhir.fact_catalog import NONE_CODE, Catalog, Fact, default_catalog
from interop.fhir.outcome import FhirError, Issue

#: X12 1338 level-of-service codes that make a request expedited: U urgent, 03
#: emergency. ("E" in X12 1338 is *elective*, so it stays standard.)
EXPEDITED_LEVELS = frozenset({"U", "03"})
CANCEL = "3"  # X12 1322 certification type "Cancel"


@dataclass
class Mapped:
    """What the bundle asks, read into CONTRACT terms."""

    identifier: str
    covered: bool
    item_index: int = 0
    item_sequence: int = 1
    request: PARequest | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # QR + Observation facts (dotted)
    asked_units: int | None = None
    asked_end: date | None = None
    cancelled: bool = False  # the whole request, or the drug's item, cancelled
    prior_identifier: str | None = None  # a claim update: the Claim it updates
    item_sequences: list[int] = field(default_factory=list)
    product_display: str = ""


def claim_identifier(parsed: ParsedBundle) -> str:
    value: str = parsed.claim.identifier[0].value  # fhir.resources models: Any at the edge
    return value


def map_bundle(
    parsed: ParsedBundle, received_at: datetime, catalog: Catalog | None = None
) -> Mapped:
    """The mapping of FHIR.md's table; ``FhirError`` naming the element when it fails."""
    claim = parsed.claim
    mapped = Mapped(
        identifier=claim_identifier(parsed),
        covered=False,
        item_sequences=[it.sequence for it in claim.item or []],
    )
    mapped.prior_identifier = _prior_identifier(parsed)
    drug = drug_item(parsed)
    if drug is None:
        return mapped
    index, hcpcs, ndc = drug
    item = claim.item[index]
    mapped.covered, mapped.item_index, mapped.item_sequence = True, index, item.sequence
    mapped.product_display = hcpcs
    mapped.cancelled = _cancelled(claim) or _item_cancelled(item)
    if item.quantity is not None and item.quantity.value is not None:
        mapped.asked_units = int(item.quantity.value)
    if item.servicedPeriod is not None and item.servicedPeriod.end is not None:
        mapped.asked_end = _as_date(item.servicedPeriod.end)
    sources: dict[str, str] = {}
    data = _contract(parsed, index, hcpcs, ndc, received_at, sources)
    facts = _facts(parsed, catalog or default_catalog(), sources)
    for path, value in facts.items():
        _set(data, path, value)
    mapped.facts = facts
    try:
        mapped.request = PARequest.model_validate(data)
    except ValidationError as exc:
        raise FhirError(_issues(exc, sources)) from None
    return mapped


# ----------------------------------------------------------------------------- the drug item


def drug_item(parsed: ParsedBundle) -> tuple[int, str, str | None] | None:
    drugs = covered_drugs()
    for i, item in enumerate(parsed.claim.item or []):
        codings = list(_codings(item.productOrService))
        for ext in item.extension or []:
            if ext.url == codes.EXT_REQUESTED_SERVICE and ext.valueReference is not None:
                ordered = parsed.resolve(ext.valueReference.reference)
                if ordered is not None and ordered.get_resource_type() == "MedicationRequest":
                    codings += _codings(getattr(ordered, "medicationCodeableConcept", None))
        hcpcs = next((c.code for c in codings if c.system == codes.HCPCS), None)
        ndc = next((c.code for c in codings if c.system == codes.NDC), None)
        for drug in drugs:
            by_code = hcpcs == drug.hcpcs
            by_ndc = ndc is not None and ndc_matches(ndc, drug.ndc_products)
            if by_code or (hcpcs is None and by_ndc):
                return i, hcpcs or drug.hcpcs, ndc
    return None


def _codings(concept: Any) -> list[Any]:
    return list(concept.coding or []) if concept is not None else []


def _cancelled(claim: Any) -> bool:
    return any(_is_cancel(ext) for ext in claim.extension or [])


def _item_cancelled(item: Any) -> bool:
    for ext in item.modifierExtension or []:
        if ext.url == codes.EXT_INFO_CANCELLED and ext.valueBoolean:
            return True
    return any(_is_cancel(ext) for ext in item.extension or [])


def _is_cancel(ext: Any) -> bool:
    return ext.url == codes.EXT_CERTIFICATION_TYPE and any(
        c.code == CANCEL for c in _codings(ext.valueCodeableConcept)
    )


def _prior_identifier(parsed: ParsedBundle) -> str | None:
    for related in parsed.claim.related or []:
        ref = related.claim
        if ref is None:
            continue
        if ref.identifier is not None and ref.identifier.value:
            return str(ref.identifier.value)
        prior = parsed.resolve(ref.reference)
        if prior is not None and prior.get_resource_type() == "Claim" and prior.identifier:
            return str(prior.identifier[0].value)
    return None


# ----------------------------------------------------------------------------- the table


def _contract(
    parsed: ParsedBundle,
    index: int,
    hcpcs: str,
    ndc: str | None,
    received_at: datetime,
    sources: dict[str, str],
) -> dict[str, Any]:
    claim = parsed.claim
    item = claim.item[index]
    coverage, cov_where = _coverage(parsed)
    patient = parsed.resolve(claim.patient.reference)
    pat_where = _where(parsed, patient)
    sources.update(
        {
            "request_id": f"{CLAIM}.identifier[0].value",
            "member.member_id": f"{cov_where}.subscriberId",
            "member.first_name": f"{pat_where}.name[0].given",
            "member.last_name": f"{pat_where}.name[0].family",
            "member.date_of_birth": f"{pat_where}.birthDate",
            "member.state": f"{pat_where}.address[0].state",
            "service.hcpcs": f"{CLAIM}.item[{index}].productOrService",
            "service.ndc": f"{CLAIM}.item[{index}].productOrService",
            "service.requested_start": f"{CLAIM}.item[{index}].servicedDate",
            "diagnosis.icd10_codes": f"{CLAIM}.diagnosis",
            "prescriber.npi": f"{CLAIM}.careTeam",
        }
    )
    data: dict[str, Any] = {
        "request_id": claim.identifier[0].value,
        "received_at": received_at.isoformat(),
        "urgency": _urgency(claim),
        "line_of_business": _line_of_business(coverage),
        "member": {"member_id": _member_id(coverage, patient)},
        "prescriber": _prescriber(parsed),
        "service": {"hcpcs": hcpcs},
    }
    if ndc:
        data["service"]["ndc"] = ndc
    if patient is not None and patient.get_resource_type() == "Patient":
        name = (patient.name or [None])[0]
        if name is not None:
            if name.given:
                data["member"]["first_name"] = name.given[0]
            if name.family:
                data["member"]["last_name"] = name.family
        if patient.birthDate is not None:
            data["member"]["date_of_birth"] = _as_date(patient.birthDate).isoformat()
        address = (patient.address or [None])[0]
        if address is not None and address.state:
            data["member"]["state"] = address.state
    start = item.servicedDate or (item.servicedPeriod.start if item.servicedPeriod else None)
    if start is not None:
        data["service"]["requested_start"] = _as_date(start).isoformat()
    if item.locationReference is not None:
        location = parsed.resolve(item.locationReference.reference)
        address = getattr(location, "address", None)
        if address is not None:
            where = _where(parsed, location)
            sources["service.site_state"] = f"{where}.address.state"
            sources["service.site_county"] = f"{where}.address.district"
            if address.state:
                data["service"]["site_state"] = address.state
            if address.district:
                data["service"]["site_county"] = address.district
    icd10 = [
        c.code
        for d in claim.diagnosis or []
        for c in _codings(d.diagnosisCodeableConcept)
        if c.system == codes.ICD10CM and c.code
    ]
    if icd10:
        data["diagnosis"] = {"icd10_codes": icd10}
    return data


def _urgency(claim: Any) -> str:
    if any(c.code == "stat" for c in _codings(claim.priority)):
        return "expedited"
    for ext in claim.extension or []:
        if ext.url == codes.EXT_LEVEL_OF_SERVICE and any(
            c.code in EXPEDITED_LEVELS for c in _codings(ext.valueCodeableConcept)
        ):
            return "expedited"
    return "standard"


def _coverage(parsed: ParsedBundle) -> tuple[Any | None, str]:
    chosen = None
    for ins in parsed.claim.insurance or []:
        found = parsed.resolve(ins.coverage.reference) if ins.coverage else None
        if found is not None and (chosen is None or ins.focal):
            chosen = found
    if chosen is None:
        found = parsed.of_type("Coverage")
        chosen = found[0] if found else None
    return chosen, _where(parsed, chosen) if chosen is not None else "Coverage"


def _line_of_business(coverage: Any) -> str:
    for c in _codings(getattr(coverage, "type", None)):
        if c.system == codes.SOURCE_OF_PAYMENT and c.code:
            if c.code.startswith("11"):
                return "medicare_advantage"
            if c.code.startswith("12"):
                return "medicare_part_b"
            if c.code.startswith("2"):
                return "medicaid"
            return "commercial"
    return "commercial"


def _member_id(coverage: Any, patient: Any) -> str | None:
    if coverage is not None and coverage.subscriberId:
        return str(coverage.subscriberId)
    for ident in getattr(patient, "identifier", None) or []:
        if any(c.code == "MB" for c in _codings(ident.type)) and ident.value:
            return str(ident.value)
    return None


def _prescriber(parsed: ParsedBundle) -> dict[str, Any]:
    for member in parsed.claim.careTeam or []:
        who = parsed.resolve(member.provider.reference) if member.provider else None
        if who is not None and who.get_resource_type() == "PractitionerRole":
            who = parsed.resolve(who.practitioner.reference) if who.practitioner else None
        if who is None or who.get_resource_type() != "Practitioner":
            continue
        out: dict[str, Any] = {}
        npi = next((i.value for i in who.identifier or [] if i.system == codes.NPI), None)
        if npi:
            out["npi"] = npi
        name = (who.name or [None])[0]
        if name is not None:
            text = name.text or " ".join([*(name.given or []), name.family or ""]).strip()
            if text:
                out["name"] = text
        return out
    return {}


# ----------------------------------------------------------------------------- the facts


def _facts(parsed: ParsedBundle, catalog: Catalog, sources: dict[str, str]) -> dict[str, Any]:
    """Observations (weight, height) first, then every QuestionnaireResponse, which wins."""
    facts: dict[str, Any] = {}
    for info in parsed.claim.supportingInfo or []:
        if info.valueReference is None:
            continue
        res = parsed.resolve(info.valueReference.reference)
        if res is not None and res.get_resource_type() == "Observation":
            _observation(res, _where(parsed, res), facts, sources)
    for info in parsed.claim.supportingInfo or []:
        if info.valueReference is None or not _is_additional(info):
            continue
        res = parsed.resolve(info.valueReference.reference)
        if res is not None and res.get_resource_type() == "QuestionnaireResponse":
            read_response(res, _where(parsed, res), catalog, facts, sources)
    return facts


def _is_additional(info: Any) -> bool:
    return any(c.code == "additionalInformation" for c in _codings(info.category))


def _observation(obs: Any, where: str, facts: dict[str, Any], sources: dict[str, str]) -> None:
    codes_ = {c.code for c in _codings(obs.code) if c.system == codes.LOINC}
    quantity = obs.valueQuantity
    for loinc, path, unit in (
        (codes.LOINC_WEIGHT_KG, "clinical.weight_kg", "kg"),
        (codes.LOINC_HEIGHT_CM, "clinical.height_cm", "cm"),
    ):
        if loinc not in codes_ or quantity is None or quantity.value is None:
            continue
        if (quantity.code or quantity.unit) not in (unit, None):
            raise FhirError([Issue(f"{where}.valueQuantity.code", f"must be '{unit}' (UCUM)")])
        facts[path] = _number(quantity.value)
        sources[path] = f"{where}.valueQuantity.value"


def read_response(
    qr: Any, where: str, catalog: Catalog, facts: dict[str, Any], sources: dict[str, str]
) -> dict[str, Any]:
    """A QuestionnaireResponse's answers as CONTRACT facts (dotted paths); linkId = path."""
    issues: list[Issue] = []

    def walk(items: list[Any], prefix: str) -> None:
        for i, item in enumerate(items or []):
            here = f"{prefix}.item[{i}]"
            if item.item:
                walk(item.item, here)
            if not item.answer:
                continue
            fact = catalog.facts.get(item.linkId)
            if fact is None:
                issues.append(Issue(f"{here}.linkId", "is not a fact the policy asks for"))
                continue
            try:
                facts[fact.path] = _answer(fact, item.answer)
                sources[fact.path] = f"{here}.answer"
            except ValueError as exc:
                issues.append(Issue(f"{here}.answer", str(exc)))

    walk(qr.item or [], where)
    if issues:
        raise FhirError(issues)
    return facts


def _answer(fact: Fact, answers: list[Any]) -> Any:
    values = [_value(fact, a) for a in answers]
    if fact.repeats:
        return [] if values == [NONE_CODE] else [v for v in values if v != NONE_CODE]
    if len(values) != 1:
        raise ValueError("this question takes one answer")
    return values[0]


def _value(fact: Fact, answer: Any) -> Any:
    kind = fact.kind
    if kind == "boolean" and answer.valueBoolean is not None:
        return answer.valueBoolean
    if kind in ("decimal", "integer"):
        raw = answer.valueDecimal if answer.valueDecimal is not None else answer.valueInteger
        if raw is not None:
            number = _number(raw)
            if kind == "integer" and number != int(number):
                raise ValueError("must be a whole number")
            return int(number) if kind == "integer" else number
    if kind == "date" and answer.valueDate is not None:
        return _as_date(answer.valueDate).isoformat()
    if kind in ("choice", "open-choice", "string"):
        code = answer.valueCoding.code if answer.valueCoding is not None else answer.valueString
        if code is not None:
            if kind == "choice" and code not in fact.options:
                raise ValueError("is not one of the question's answer options")
            return code
    raise ValueError(f"needs a {kind} answer")


# ----------------------------------------------------------------------------- helpers


def _where(parsed: ParsedBundle, resource: Any) -> str:
    for i, entry in enumerate(parsed.bundle.entry or []):
        if entry.resource is resource:
            return f"Bundle.entry[{i}].resource"
    return "Bundle"


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        value = float(value)
    return int(value) if float(value).is_integer() else float(value)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _issues(exc: ValidationError, sources: dict[str, str]) -> list[Issue]:
    issues = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        path = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
        where = sources.get(path) or next(
            (v for k, v in sources.items() if path.startswith(k)), None
        )
        if where is None and path == "member.member_id":
            where = "Coverage.subscriberId"
        message = "is required" if err["type"] in ("missing", "string_type") else err["msg"]
        issues.append(Issue(where or CLAIM, f"{path}: {message}".replace(" ,", ",")))
    return issues
