"""No error body repeats what the caller sent: a field is named, its value never is.

Every refusal here carries a recognisable PHI-like value in the input: FastAPI's
own 422s (bad fields, bad JSON, bad query values), a workflow update validator's
refusal (422) and a validator's conflict (409). The codec server's 400s are in
tests/integration/test_codec_server.py, the body limits' in
tests/integration/test_deep_json_is_refused.py.
"""

from __future__ import annotations

from tests.api_tokens import auth
from tests.e2e.conftest import claim_for, make_request

PHI = "Josephine-Quillfeather-19610423"


def _assert_no_echo(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert PHI not in response.text, response.text
    assert "Josephine" not in response.text and "input_value" not in response.text


async def test_fastapi_422s_name_the_field_without_its_value(api_only):
    request = make_request()
    request["member"]["date_of_birth"] = PHI
    request["member"]["state"] = PHI
    request["urgency"] = PHI
    request[PHI[:20]] = PHI
    r = await api_only.post("/cases", json=request, headers=auth("intake"))
    _assert_no_echo(r, 422)
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"member.date_of_birth", "member.state", "urgency"} <= fields

    for query in (f"status={PHI}", f"period_end_before={PHI}", f"limit={PHI}"):
        _assert_no_echo(await api_only.get(f"/cases?{query}", headers=auth("read-only")), 422)

    broken = '{"member": {"first_name": "' + PHI  # not JSON: a 400 (RFC 9110)
    r = await api_only.post(
        "/cases", content=broken, headers={**auth("intake"), "Content-Type": "application/json"}
    )
    _assert_no_echo(r, 400)


async def test_a_workflow_validators_refusal_names_the_fact_without_its_value(stack):
    case_id = (await stack.submit(make_request(base="request-pend.json")))["case_id"]
    assert await stack.wait_status(case_id, "pended") == "pended"

    r = await stack.http.post(
        f"/cases/{case_id}/info",
        json={
            "facts": {
                "member.date_of_birth": PHI,
                "diagnosis.mrd_percent": PHI,
                f"diagnosis.{PHI}": 1,  # an unknown key is input too: not named as sent
            }
        },
        headers=auth("intake"),
    )

    _assert_no_echo(r, 422)
    # Each fact is named by its own field (CONTRACT.md, "Strict types"), never by its value.
    assert {e["field"] for e in r.json()["errors"]} == {
        "facts.member.date_of_birth",
        "facts.diagnosis.mrd_percent",
        "facts.diagnosis.(unknown field)",
    }
    assert (await stack.case(case_id))["status"] == "pended"


async def test_a_validators_conflict_does_not_repeat_the_claims_member_id(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]

    r = await stack.http.post(
        f"/cases/{case_id}/claims",
        json=claim_for(request, member_id=PHI),
        headers=auth("claims"),
    )

    _assert_no_echo(r, 409)
    assert "another member" in r.json()["message"]
