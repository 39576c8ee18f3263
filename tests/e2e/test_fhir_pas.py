"""The FHIR door on the real stack (API -> Temporal -> worker -> PostgreSQL): PAS $submit,
$inquire and claim updates answer as FHIR.md says, and refuse what is not conformant."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from examples.fhir_bundles import inquiry_bundle, pas_bundle
from tests.api_tokens import auth
from tests.e2e.conftest import make_request
from tests.fhir_profiles import examples, missing_required
from tests.fhir_subscriber import notified_response, subscriber, subscription_body

INFERNO = Path(__file__).resolve().parents[1] / "fixtures" / "inferno"
FHIR = {"Content-Type": "application/fhir+json"}


def headers(role: str = "intake") -> dict[str, str]:
    return {**auth(role), **FHIR}


async def submit(stack, bundle, expect: int = 200) -> dict:
    r = await stack.http.post("/fhir/Claim/$submit", json=bundle, headers=headers())
    assert r.status_code == expect, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return r.json()


async def inquire(stack, bundle, expect: int = 200) -> dict:
    r = await stack.http.post("/fhir/Claim/$inquire", json=bundle, headers=headers())
    assert r.status_code == expect, r.text
    return r.json()


def claim_response(bundle: dict) -> dict:
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "ClaimResponse"
    return first


def review_action(bundle: dict, sequence: int = 1) -> str:
    item = next(i for i in claim_response(bundle)["item"] if i["itemSequence"] == sequence)
    (review,) = item["adjudication"][0]["extension"]
    code = next(e for e in review["extension"] if e["url"].endswith("reviewActionCode"))
    return code["valueCodeableConcept"]["coding"][0]["code"]


def conformant(bundle: dict, inquiry: bool = False) -> None:
    """The response bundle and its ClaimResponse have every element PAS requires."""
    profile = "profile-pas-inquiry-response-bundle" if inquiry else "profile-pas-response-bundle"
    assert missing_required(bundle, profile) == []
    assert missing_required(claim_response(bundle), "profile-claimresponse") == []
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "CommunicationRequest":
            assert missing_required(entry["resource"], "profile-communicationrequest") == []


def item_extension(bundle: dict, suffix: str) -> dict:
    item = claim_response(bundle)["item"][0]
    return next(e for e in item.get("extension", []) if e["url"].endswith(suffix))


async def test_the_pas_package_and_inferno_request_bundles_get_a_claim_response(stack):
    """Bundles nobody here wrote: the IG's own examples and the Inferno kit's conformant
    ones. None is for Blincyto, so each is answered CT (no policy here covers it) and
    nothing is started."""
    bundles = {
        name: body
        for name, body in examples().items()
        if body.get("meta", {})
        .get("profile", [""])[0]
        .endswith(("pas-request-bundle", "inquiry-request-bundle"))
    }
    assert len(bundles) >= 6
    for name in ("conformant_pas_bundle_v110.json", "conformant_pas_bundle_v110_uuid.json"):
        bundles[name] = json.loads((INFERNO / name).read_text())
    for name, body in bundles.items():
        op = "$inquire" if "inquiry" in body["meta"]["profile"][0] else "$submit"
        r = await stack.http.post(f"/fhir/Claim/{op}", json=body, headers=headers())
        assert r.status_code == 200, (name, r.text)
        answer = r.json()
        assert review_action(answer) == "CT", name
        assert "No policy" in claim_response(answer)["disposition"]
        conformant(answer, inquiry=op == "$inquire")
    inquiry = json.loads((INFERNO / "conformant_pas_inquire_bundle_v110.json").read_text())
    conformant(await inquire(stack, inquiry), inquiry=True)
    assert await stack.workflow_count(f'TaskQueue="{stack.settings.temporal_task_queue}"') == 0


async def test_non_conformant_bundles_get_400_and_an_operation_outcome_naming_the_element(stack):
    cases = {
        "nonconformant_pas_bundle_v110.json": "Bundle.entry",
        "missing_referenced_resource_request_bundle.json": (
            "Bundle.entry[0].resource.careTeam[0].provider.reference"
        ),
    }
    for name, expression in cases.items():
        body = json.loads((INFERNO / name).read_text())
        answer = await submit(stack, body, expect=400)
        assert answer["resourceType"] == "OperationOutcome"
        assert expression in [e for i in answer["issue"] for e in i["expression"]], answer

    request = make_request()
    bad = pas_bundle(request)
    bad["entry"][4]["resource"]["birthDate"] = "1980-13-45"
    answer = await submit(stack, bad, expect=400)
    assert answer["issue"][0]["expression"] == ["Bundle.entry[4].resource.birthDate"]
    assert "1980-13-45" not in json.dumps(answer)

    unsupported = pas_bundle(request)
    unsupported["entry"].append(
        {
            "fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001",
            "resource": {"resourceType": "Account", "status": "active"},
        }
    )
    answer = await submit(stack, unsupported, expect=400)
    assert answer["issue"][0]["code"] == "not-supported"

    answer = await submit(stack, {"resourceType": "Patient"}, expect=400)
    assert answer["issue"][0]["expression"] == ["resourceType"]
    r = await stack.http.post("/fhir/Claim/$submit", content=b"{not json", headers=headers())
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"

    no_member = pas_bundle(request)
    del no_member["entry"][3]["resource"]["subscriberId"]
    no_member["entry"][4]["resource"].pop("identifier")
    answer = await submit(stack, no_member, expect=400)
    assert answer["issue"][0]["expression"] == ["Bundle.entry[3].resource.subscriberId"]
    assert request["member"]["last_name"] not in json.dumps(answer)

    r = await stack.http.post(
        "/fhir/Claim/$submit", json=pas_bundle(request), headers=auth("claims")
    )
    assert r.status_code == 403
    assert await stack.workflow_count(f'TaskQueue="{stack.settings.temporal_task_queue}"') == 0


async def test_a_blincyto_claim_is_certified_in_total_once_per_identifier(stack):
    request = make_request()
    answer = await submit(stack, pas_bundle(request, units=4900))
    conformant(answer)
    response = claim_response(answer)
    case_id = f"pa-{request['request_id']}"
    assert review_action(answer) == "A1"
    assert response["preAuthRef"] == case_id
    assert response["preAuthPeriod"]["start"] == request["service"]["requested_start"]
    detail = item_extension(answer, "itemAuthorizedDetail")
    assert detail["extension"][0]["valueQuantity"]["value"] == 4900
    assert item_extension(answer, "itemPreAuthPeriod")["valuePeriod"] == response["preAuthPeriod"]

    again = await submit(stack, pas_bundle(request, units=4900))
    assert claim_response(again)["preAuthRef"] == case_id
    assert await stack.workflow_count(f'WorkflowId="{case_id}"') == 1

    now = await inquire(stack, inquiry_bundle(request))
    conformant(now, inquiry=True)
    assert review_action(now) == "A1" and claim_response(now)["preAuthRef"] == case_id
    case = await stack.case(case_id)
    assert case["summary"]["urgency"] == "standard"
    rows = await stack.pool.fetch(
        "SELECT action, case_id, status FROM access_audit WHERE route LIKE '/fhir/%' ORDER BY id"
    )
    assert [(r["action"], r["case_id"], r["status"]) for r in rows][-1] == (
        "fhir_inquire",
        case_id,
        200,
    )


async def test_a_pended_claim_names_the_missing_facts_and_a_questionnaire_response_decides_it(
    stack,
):
    """A4, then a claim update with the QuestionnaireResponse: A1, and the submitter's
    subscription is notified exactly once with that ClaimResponse (rest-hook, through
    the outbox), the one $inquire gives."""
    with subscriber() as hook:
        r = await stack.http.post(
            "/fhir/Subscription", json=subscription_body(hook.url), headers=headers()
        )
        assert r.status_code == 201, r.text
        sub = r.json()
        assert sub["status"] == "active" and "header" not in sub["channel"]
        assert missing_required(sub, "profile-subscription") == []

        request = make_request(base="request-pend.json")
        answer = await submit(stack, pas_bundle(request))
        conformant(answer)
        assert review_action(answer) == "A4"
        comm = next(
            e["resource"]
            for e in answer["entry"]
            if e["resource"]["resourceType"] == "CommunicationRequest"
        )
        assert [p["extension"][0]["valueString"] for p in comm["payload"]] == [
            "diagnosis.mrd_percent"
        ]
        assert "diagnosis.mrd_percent" in comm["payload"][0]["contentString"]

        filled = json.loads(json.dumps(request))
        filled["diagnosis"]["mrd_percent"] = 0.4
        update = pas_bundle(filled, update_of=request["request_id"])
        answer = await submit(stack, update)
        assert review_action(answer) == "A1", claim_response(answer)["disposition"]
        case_id = f"pa-{request['request_id']}"
        assert claim_response(answer)["preAuthRef"] == case_id

        (got,) = await hook.wait_for(1)
        await asyncio.sleep(1.5)  # nothing more comes
        assert len(hook.attempts) == 1
    assert got["headers"]["Content-Type"] == "application/fhir+json"
    assert got["headers"]["Authorization"] == "Bearer subscriber-secret"
    notified = notified_response(got["body"], sub["id"], 1)
    conformant(notified)
    assert review_action(notified) == "A1"
    now = claim_response(await inquire(stack, inquiry_bundle(request)))
    told = claim_response(notified)
    for element in ("preAuthRef", "preAuthPeriod", "item", "disposition", "request", "patient"):
        assert told[element] == now[element], element
    assert request["member"]["last_name"] not in json.dumps(got["body"])
    row = await stack.pool.fetchrow(
        "SELECT key, status, attempts, channel FROM notifications WHERE kind = 'fhir_subscription'"
    )
    assert (row["status"], row["attempts"], row["channel"]) == ("sent", 1, "rest-hook")
    assert got["headers"]["Idempotency-Key"] == row["key"]


async def test_a_reviewer_denial_is_not_certified_with_reasons_and_appeal_rights(stack):
    request = make_request(base="request-review.json")
    answer = await submit(stack, pas_bundle(request))
    assert review_action(answer) == "A4"
    assert "clinical review" in claim_response(answer)["disposition"]
    case_id = claim_response(answer)["preAuthRef"]
    assert (await stack.case(case_id))["summary"]["urgency"] == "expedited"  # priority stat
    r = await stack.http.post(
        f"/cases/{case_id}/review",
        json={"determination": "deny", "rationale": "not a listed use"},
        headers=auth("reviewer"),
    )
    assert r.status_code == 200, r.text
    now = await inquire(stack, inquiry_bundle(request))
    conformant(now, inquiry=True)
    assert review_action(now) == "A3"
    assert "appeal" in claim_response(now)["disposition"]


async def test_prior_cycles_leave_fewer_units_than_asked_and_the_answer_is_modified(stack):
    request = make_request(therapy__prior_blinatumomab_cycles=3)
    answer = await submit(stack, pas_bundle(request, units=4900))
    assert review_action(answer) == "A6"
    granted = item_extension(answer, "itemAuthorizedDetail")["extension"][0]["valueQuantity"]
    assert granted["value"] < 4900


async def test_medicare_part_b_is_answered_not_applicable_with_the_mac(stack):
    request = make_request(line_of_business="medicare_part_b")
    answer = await submit(stack, pas_bundle(request))
    conformant(answer)
    assert review_action(answer) == "CT"
    assert "Noridian" in claim_response(answer)["disposition"]  # OR -> jurisdiction F


async def test_a_claim_update_cancelling_the_item_withdraws_the_case(stack):
    request = make_request()
    await submit(stack, pas_bundle(request))
    answer = await submit(stack, pas_bundle(request, update_of=request["request_id"], cancel=True))
    assert review_action(answer) == "C"
    assert (await stack.case(f"pa-{request['request_id']}"))["status"] == "withdrawn"
    unknown = make_request()
    answer = await submit(stack, pas_bundle(unknown, update_of="NO-SUCH-CLAIM"), expect=404)
    assert answer["issue"][0]["expression"] == ["Bundle.entry[0].resource.related[0].claim"]
