"""PAS request bundles made from CONTRACT requests, for the examples and the tests.

``pas_bundle(request)`` writes a CONTRACT.md request as a Da Vinci PAS request
Bundle the way FHIR.md reads it back: the member on Patient and Coverage, the
prescriber on the care team, the drug on the Claim item, the ICD-10 codes on
Claim.diagnosis, weight and height as Observations, and every other fact as an
answer of a QuestionnaireResponse filled from the generated DTR Questionnaire
(``interop.fhir.questionnaire``), linkId = the CONTRACT field path.

``python -m examples.fhir_bundles`` writes the example bundles of examples/fhir/.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from interop.fhir import codes
from interop.fhir.fact_catalog import NONE_CODE, default_catalog
from interop.fhir.questionnaire import ANSWER_SYSTEM, canonical_url

HERE = Path(__file__).resolve().parent
SOURCE_OF_PAYMENT = {
    "commercial": "5",
    "medicaid": "2",
    "medicare_advantage": "11",
    "medicare_part_b": "121",
}
#: Facts the bundle carries outside the QuestionnaireResponse (FHIR.md's table).
ELSEWHERE = frozenset({"member.date_of_birth", "diagnosis.icd10_codes"})


def _get(request: dict[str, Any], path: str) -> Any:
    node: Any = request
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def questionnaire_response(request: dict[str, Any]) -> dict[str, Any]:
    """The generated Questionnaire filled from ``request``: one item per stated fact."""
    catalog = default_catalog()
    items = []
    for path, fact in catalog.facts.items():
        value = _get(request, path)
        if value is None or path in ELSEWHERE:
            continue  # not stated: left out (unknown)
        values = value if fact.repeats else [value]
        if fact.repeats and not values:
            values = [NONE_CODE]
        answers = []
        for v in values:
            if fact.kind == "boolean":
                answers.append({"valueBoolean": v})
            elif fact.kind == "decimal":
                answers.append({"valueDecimal": v})
            elif fact.kind == "integer":
                answers.append({"valueInteger": v})
            elif fact.kind == "date":
                answers.append({"valueDate": v})
            else:
                answers.append({"valueCoding": {"system": f"{ANSWER_SYSTEM}/{path}", "code": v}})
        items.append({"linkId": path, "answer": answers})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "facts",
        "questionnaire": canonical_url(),
        "status": "completed",
        "subject": {"reference": "Patient/member"},
        "item": items,
    }


def pas_bundle(
    request: dict[str, Any],
    *,
    units: int | None = None,
    update_of: str | None = None,
    cancel: bool = False,
    with_questionnaire: bool = True,
) -> dict[str, Any]:
    """``request`` (CONTRACT.md) as a PAS request Bundle.

    ``update_of``: a PAS claim update of the claim with that identifier (the request's
    own id gets an ``-update`` suffix); ``cancel`` cancels the drug's item;
    ``units`` is the quantity asked on the item.
    """
    r = copy.deepcopy(request)
    member, service = r["member"], r["service"]
    base = "http://provider.example/fhir"
    identifier = r["request_id"] if update_of is None else f"{r['request_id']}-update"
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "member",
        "identifier": [
            {
                "type": {"coding": [{"system": codes.V2_0203, "code": "MB"}]},
                "system": "http://plan.example/member",
                "value": member["member_id"],
            }
        ],
        "name": [
            {
                "family": member.get("last_name") or "Unknown",
                "given": [member.get("first_name") or "Unknown"],
            }
        ],
    }
    if member.get("date_of_birth"):
        patient["birthDate"] = member["date_of_birth"]
    if member.get("state"):
        patient["address"] = [{"state": member["state"]}]
    coverage = {
        "resourceType": "Coverage",
        "id": "coverage",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": codes.SOURCE_OF_PAYMENT,
                    "code": SOURCE_OF_PAYMENT[r["line_of_business"]],
                }
            ]
        },
        "subscriberId": member["member_id"],
        "beneficiary": {"reference": "Patient/member"},
        "payor": [{"reference": "Organization/plan"}],
    }
    insurer = {
        "resourceType": "Organization",
        "id": "plan",
        "identifier": [{"system": codes.NPI, "value": "1234567893"}],
        "name": "Example Health Plan",
    }
    requestor = {
        "resourceType": "Organization",
        "id": "clinic",
        "identifier": [{"system": codes.NPI, "value": "1619985643"}],
        "name": "Example Oncology Clinic",
    }
    prescriber = r.get("prescriber") or {}
    practitioner: dict[str, Any] = {"resourceType": "Practitioner", "id": "prescriber"}
    if prescriber.get("npi"):
        practitioner["identifier"] = [{"system": codes.NPI, "value": prescriber["npi"]}]
    if prescriber.get("name"):
        practitioner["name"] = [{"text": prescriber["name"]}]
    coding = [{"system": codes.HCPCS, "code": service["hcpcs"]}]
    if service.get("ndc"):
        coding.append({"system": codes.NDC, "code": service["ndc"]})
    item: dict[str, Any] = {
        "extension": [
            {
                "url": f"{codes.PAS_SD}/extension-serviceItemRequestType",
                "valueCodeableConcept": {
                    "coding": [{"system": "https://codesystem.x12.org/005010/1525", "code": "HS"}]
                },
            },
            {
                "url": codes.EXT_CERTIFICATION_TYPE,
                "valueCodeableConcept": {
                    "coding": [{"system": codes.X12_1322, "code": "3" if cancel else "I"}]
                },
            },
        ],
        "sequence": 1,
        "category": {"coding": [{"system": "https://codesystem.x12.org/005010/1365", "code": "1"}]},
        "productOrService": {"coding": coding},
        "locationCodeableConcept": {
            "coding": [
                {
                    "system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
                    "code": "22",
                }
            ]
        },
    }
    if cancel:
        item["modifierExtension"] = [{"url": codes.EXT_INFO_CANCELLED, "valueBoolean": True}]
    if service.get("requested_start"):
        item["servicedDate"] = service["requested_start"]
    if units is not None:
        item["quantity"] = {"value": units, "unit": "units"}
    entries: list[tuple[str, dict[str, Any]]] = []
    if service.get("site_state") or service.get("site_county"):
        location = {"resourceType": "Location", "id": "site", "address": {}}
        if service.get("site_state"):
            location["address"]["state"] = service["site_state"]
        if service.get("site_county"):
            location["address"]["district"] = service["site_county"]
        item["locationReference"] = {"reference": "Location/site"}
        del item["locationCodeableConcept"]
        entries.append(("Location/site", location))
    supporting: list[dict[str, Any]] = []
    if with_questionnaire:
        qr = questionnaire_response(r)
        entries.append(("QuestionnaireResponse/facts", qr))
        supporting.append(
            {
                "sequence": 1,
                "category": {
                    "coding": [{"system": codes.PAS_TEMP_CODES, "code": "additionalInformation"}]
                },
                "valueReference": {"reference": "QuestionnaireResponse/facts"},
            }
        )
    clinical = r.get("clinical") or {}
    for fact, loinc, unit in (
        ("weight_kg", codes.LOINC_WEIGHT_KG, "kg"),
        ("height_cm", codes.LOINC_HEIGHT_CM, "cm"),
    ):
        if clinical.get(fact) is None:
            continue
        obs_id = fact.replace("_", "-")
        entries.append(
            (
                f"Observation/{obs_id}",
                {
                    "resourceType": "Observation",
                    "id": obs_id,
                    "status": "final",
                    "code": {"coding": [{"system": codes.LOINC, "code": loinc}]},
                    "subject": {"reference": "Patient/member"},
                    "valueQuantity": {
                        "value": clinical[fact],
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": unit,
                    },
                },
            )
        )
        supporting.append(
            {
                "sequence": len(supporting) + 1,
                "category": {"coding": [{"system": codes.PAS_TEMP_CODES, "code": "patientEvent"}]},
                "valueReference": {"reference": f"Observation/{obs_id}"},
            }
        )
    claim: dict[str, Any] = {
        "resourceType": "Claim",
        "id": "request",
        "meta": {"profile": [codes.PROFILE_CLAIM_UPDATE if update_of else codes.PROFILE_CLAIM]},
        "identifier": [{"system": "http://provider.example/pa-requests", "value": identifier}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "preauthorization",
        "patient": {"reference": "Patient/member"},
        "created": r["received_at"],
        "insurer": {"reference": "Organization/plan"},
        "provider": {"reference": "Organization/clinic"},
        "priority": {
            "coding": [
                {
                    "system": codes.PROCESS_PRIORITY,
                    "code": "stat" if r.get("urgency") == "expedited" else "normal",
                }
            ]
        },
        "careTeam": [
            {
                "extension": [
                    {"url": f"{codes.PAS_SD}/extension-careTeamClaimScope", "valueBoolean": True}
                ],
                "sequence": 1,
                "provider": {"reference": "Practitioner/prescriber"},
            }
        ],
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/coverage"}}
        ],
        "item": [item],
    }
    if update_of:
        claim["related"] = [
            {
                "claim": {
                    "identifier": {
                        "system": "http://provider.example/pa-requests",
                        "value": update_of,
                    }
                },
                "relationship": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship",
                            "code": "prior",
                        }
                    ]
                },
            }
        ]
    codes_ = (r.get("diagnosis") or {}).get("icd10_codes") or []
    if codes_:
        claim["diagnosis"] = [
            {
                "sequence": i + 1,
                "diagnosisCodeableConcept": {"coding": [{"system": codes.ICD10CM, "code": c}]},
            }
            for i, c in enumerate(codes_)
        ]
    if supporting:
        claim["supportingInfo"] = supporting
    resources = [
        ("Claim/request", claim),
        ("Organization/clinic", requestor),
        ("Organization/plan", insurer),
        ("Coverage/coverage", coverage),
        ("Patient/member", patient),
        ("Practitioner/prescriber", practitioner),
        *entries,
    ]
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [codes.PROFILE_REQUEST_BUNDLE]},
        "identifier": {"system": "http://provider.example/bundles", "value": f"B-{identifier}"},
        "type": "collection",
        "timestamp": r["received_at"],
        "entry": [{"fullUrl": f"{base}/{url}", "resource": res} for url, res in resources],
    }


def inquiry_bundle(request: dict[str, Any]) -> dict[str, Any]:
    """The PAS inquiry for ``request``'s claim (its identifier and item, no facts)."""
    bundle = pas_bundle(request, with_questionnaire=False)
    bundle["meta"] = {"profile": [codes.PROFILE_INQUIRY_BUNDLE]}
    claim = bundle["entry"][0]["resource"]
    claim["meta"] = {"profile": [f"{codes.PAS_SD}/profile-claim-inquiry"]}
    claim.pop("supportingInfo", None)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Observation"]
    return bundle


EXAMPLES = {
    "bundle-approve.json": ("request-approve.json", {}),
    "bundle-pend.json": ("request-pend.json", {}),
    "bundle-review.json": ("request-review.json", {}),
}


def main() -> None:
    requests = HERE / "requests"
    for name, (source, kw) in EXAMPLES.items():
        request = json.loads((requests / source).read_text())
        (HERE / "fhir" / name).write_text(json.dumps(pas_bundle(request, **kw), indent=2) + "\n")


if __name__ == "__main__":
    main()
