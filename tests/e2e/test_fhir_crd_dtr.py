"""CRD says auth-needed before an approval and satisfied after it; DTR's
$questionnaire-package gives the generated Questionnaire; /fhir/metadata names it all."""

from __future__ import annotations

from examples.fhir_bundles import pas_bundle
from tests.api_tokens import auth
from tests.e2e.conftest import make_request

CRD_EXT = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"


def order_sign(request: dict, code: str = "J9039") -> dict:
    system = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
    return {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/prescriber",
            "patientId": "member",
            "draftOrders": {
                "resourceType": "Bundle",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "MedicationRequest",
                            "status": "draft",
                            "intent": "order",
                            "medicationCodeableConcept": {
                                "coding": [{"system": system, "code": code}]
                            },
                            "subject": {"reference": "Patient/member"},
                            "authoredOn": request["service"]["requested_start"],
                        }
                    }
                ],
            },
        },
        "prefetch": {
            "coverage": {
                "resourceType": "Coverage",
                "status": "active",
                "subscriberId": request["member"]["member_id"],
                "beneficiary": {"reference": "Patient/member"},
                "payor": [{"reference": "Organization/plan"}],
            }
        },
    }


def coverage_information(answer: dict) -> dict[str, object]:
    (action,) = answer["systemActions"]
    ext = next(e for e in action["resource"]["extension"] if e["url"] == CRD_EXT)
    return {
        e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in ext["extension"]
    }


async def test_crd_says_auth_needed_before_approval_and_satisfied_after(stack):
    r = await stack.http.get("/cds-services")
    assert r.status_code == 200
    ids = {s["id"] for s in r.json()["services"]}
    assert ids == {"priorauth-order-sign", "priorauth-order-select"}

    request = make_request()
    url = "/cds-services/priorauth-order-sign"
    r = await stack.http.post(url, json=order_sign(request), headers=auth("intake"))
    assert r.status_code == 200, r.text
    info = coverage_information(r.json())
    assert info["pa-needed"] == "auth-needed" and info["doc-needed"] == "clinical"
    assert str(info["questionnaire"]).startswith("urn:priorauth:fhir/Questionnaire/")

    submitted = await stack.http.post(
        "/fhir/Claim/$submit", json=pas_bundle(request), headers=auth("intake")
    )
    assert submitted.status_code == 200, submitted.text
    case_id = f"pa-{request['request_id']}"
    assert await stack.wait_status(case_id, "active") == "active"
    r = await stack.http.post(url, json=order_sign(request), headers=auth("intake"))
    info = coverage_information(r.json())
    assert info["pa-needed"] == "satisfied" and info["satisfied-pa-id"] == case_id

    other = await stack.http.post(url, json=order_sign(request, "J9999"), headers=auth("intake"))
    assert other.json() == {"cards": [], "systemActions": []}
    r = await stack.http.post(url, json=order_sign(request), headers=auth("claims"))
    assert r.status_code == 403


async def test_the_questionnaire_package_and_the_capability_statement(stack):
    body = {"resourceType": "Parameters", "parameter": []}
    r = await stack.http.post(
        "/fhir/Questionnaire/$questionnaire-package", json=body, headers=auth("intake")
    )
    assert r.status_code == 200, r.text
    package = r.json()["parameter"][0]["resource"]
    q = package["entry"][0]["resource"]
    assert q["resourceType"] == "Questionnaire"
    assert "diagnosis.mrd_percent" in [i["linkId"] for i in q["item"]]
    r = await stack.http.post(
        "/fhir/Questionnaire/$questionnaire-package",
        json={"resourceType": "Patient"},
        headers=auth("intake"),
    )
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"

    r = await stack.http.get("/fhir/metadata")
    assert r.status_code == 200
    cs = r.json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    ops = {o["name"] for res in cs["rest"][0]["resource"] for o in res.get("operation", [])}
    assert ops == {"submit", "inquire", "questionnaire-package"}
