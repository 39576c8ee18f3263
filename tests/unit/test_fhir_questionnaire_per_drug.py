"""DTR and CRD for every drug of the policy registry, not only Blincyto: the synthetic
Testomab policy (tests/synthetic_policy.py) served beside Blincyto's."""

from __future__ import annotations

from typing import Any

import pytest

from interop.fhir import codes, crd
from interop.fhir.capability import capability_statement
from interop.fhir.fact_catalog import catalog_for
from interop.fhir.questionnaire import canonical_url, drugs_asked, package
from tests.synthetic_policy import TESTOMAB, TESTOMAB_NDC, serving, two_drugs


@pytest.fixture
def registry(monkeypatch):
    return serving(monkeypatch, two_drugs())


def _order(system: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
        "authoredOn": "2026-12-03",
    }


def _parameters(*orders: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "order", "resource": o} for o in orders],
    }


def test_the_package_holds_the_questionnaire_of_the_drug_the_order_asks_for(registry):
    asked, unknown = drugs_asked(_parameters(_order(codes.NDC, TESTOMAB_NDC)))
    assert (asked, unknown) == ([TESTOMAB], [])

    testomab = registry.for_drug(TESTOMAB)
    answer = package([catalog_for(testomab)])
    (entry,) = answer["parameter"][0]["resource"]["entry"]
    q = entry["resource"]
    assert entry["fullUrl"] == q["url"] == canonical_url(catalog_for(testomab))
    assert q["id"] == testomab.id.lower() and q["version"] == testomab.version
    blincyto = catalog_for(registry.for_drug("J9039"))
    assert q["url"] != canonical_url(blincyto)
    assert {i["linkId"] for i in q["item"]} == set(catalog_for(testomab).facts)


def test_an_order_of_a_drug_no_policy_covers_is_named_and_no_order_asks_for_none(registry):
    asked, unknown = drugs_asked(_parameters(_order(codes.HCPCS, "J0000")))
    assert asked == [] and unknown == ["Parameters.parameter[0].resource"]
    assert drugs_asked({"resourceType": "Parameters", "parameter": []}) == ([], [])


def test_crd_answers_an_order_of_any_drug_the_registry_covers(registry):
    body = {
        "context": {
            "draftOrders": {
                "resourceType": "Bundle",
                "entry": [
                    {"resource": _order(codes.HCPCS, TESTOMAB)},
                    {"resource": _order(codes.HCPCS, "J9039")},
                    {"resource": _order(codes.HCPCS, "J0000")},
                ],
            }
        }
    }
    orders = crd.covered_orders(body)
    assert [hcpcs for _, hcpcs in orders] == [TESTOMAB, "J9039"]

    testomab = registry.for_drug(TESTOMAB)
    card, action = crd.card(orders[0][0], None, testomab)
    assert testomab.policy.drug_name in card["summary"]
    assert "Blincyto" not in card["summary"] + card["source"]["label"]
    (info,) = [e for e in action["resource"]["extension"] if e["url"].endswith("information")]
    values = {
        e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in info["extension"]
    }
    assert values["questionnaire"] == canonical_url(catalog_for(testomab))


def test_the_capability_statement_lists_every_drugs_questionnaire(registry):
    statement = capability_statement(registry.policies)
    (q,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "Questionnaire"]
    assert sorted(q["supportedProfile"]) == sorted(
        canonical_url(catalog_for(p)) for p in registry.policies
    )
