"""Strict input through the API (CONTRACT.md, "Strict types", "Prior-authorization request",
"Clinical event"): refused by field with 422 and nothing started or changed.

- a request for a drug no policy covers (``service.hcpcs``, ``service.ndc``);
- coerced values (``"date": 0``, ``"units": "35"``, ``"b_cell_precursor": "yes"``) and
  unknown fields, on every public body;
- identifiers outside ``[A-Za-z0-9._:-]{1,64}``;
- a clinical event dated before the case's day of receipt or after its today, and
  retractions of events the case cannot retract; a retracted death reinstates the case;
- a period-end filter Temporal's visibility cannot hold.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tests.api_tokens import auth
from tests.e2e.conftest import claim_for, make_request, today


async def _post(stack, path: str, body: Any, role: str):
    return await stack.http.post(path, json=body, headers=auth(role))


def _fields(r) -> set[str]:
    assert r.status_code == 422, r.text
    return {e["field"] for e in r.json()["errors"]}


async def _nothing_started(stack, request: dict[str, Any]) -> None:
    case_id = f"pa-{request['request_id']}"
    assert await stack.workflow_count(f"WorkflowId = '{case_id}'") == 0


async def _event_rows(stack, case_id: str) -> list[tuple[str, str]]:
    rows = await stack.pool.fetch(
        "SELECT event_id, type FROM clinical_events WHERE case_id = $1 ORDER BY id", case_id
    )
    return [(r["event_id"], r["type"]) for r in rows]


# ---------------------------------------------------------------------- the drug


@pytest.mark.parametrize(
    ("service", "field"),
    [
        ({"hcpcs": "J9999"}, "service.hcpcs"),
        ({"hcpcs": None}, "service.hcpcs"),
        ({"ndc": "00069-0160-01"}, "service.ndc"),
        ({"ndc": "55513-0161-01"}, "service.ndc"),
        ({"ndc": "5551301600"}, "service.ndc"),
    ],
)
async def test_a_request_for_another_drug_is_refused_naming_the_field(stack, service, field):
    request = make_request()
    request["service"].update(service)
    r = await _post(stack, "/cases", request, "intake")
    assert _fields(r) == {field}
    await _nothing_started(stack, request)


async def test_a_request_without_the_drug_is_refused(stack):
    request = make_request()
    del request["service"]["hcpcs"]
    assert _fields(await _post(stack, "/cases", request, "intake")) == {"service.hcpcs"}
    del request["service"]
    assert _fields(await _post(stack, "/cases", request, "intake")) == {"service"}
    await _nothing_started(stack, request)


@pytest.mark.parametrize("ndc", ["55513-0160-01", "55513016001", "55513-0160-99", None])
async def test_blincyto_with_either_ndc_spelling_or_none_is_accepted(stack, ndc):
    request = make_request()
    request["service"]["ndc"] = ndc
    body = await stack.submit(request, expect=201)
    assert body["status"] == "active"


# ------------------------------------------------------------------ strict types


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"diagnosis": {"b_cell_precursor": "yes"}}, "diagnosis.b_cell_precursor"),
        ({"diagnosis": {"b_cell_precursor": 1}}, "diagnosis.b_cell_precursor"),
        ({"diagnosis": {"mrd_percent": "0.4"}}, "diagnosis.mrd_percent"),
        ({"clinical": {"weight_kg": True}}, "clinical.weight_kg"),
        ({"therapy": {"prior_blinatumomab_cycles": "0"}}, "therapy.prior_blinatumomab_cycles"),
        ({"member": {"date_of_birth": 0}}, "member.date_of_birth"),
        ({"member": {"date_of_birth": "19800402"}}, "member.date_of_birth"),
        ({"received_at": 0}, "received_at"),
        ({"received_at": "2026-12-01T09:00:00"}, "received_at"),
        ({"received_at": "2026-12-01"}, "received_at"),
        ({"service": {"requested_start": "2026-12-03T00:00:00Z"}}, "service.requested_start"),
        ({"clinical": {"pulse": 80}}, "clinical.pulse"),
        ({"note": "x"}, "note"),
    ],
)
async def test_a_coerced_value_or_unknown_field_in_a_request_is_refused(stack, change, field):
    request = make_request()
    for key, value in change.items():
        if isinstance(value, dict):
            request[key].update(value)
        else:
            request[key] = value
    r = await _post(stack, "/cases", request, "intake")
    assert _fields(r) == {field}
    await _nothing_started(stack, request)


@pytest.mark.parametrize(
    "request_id",
    ["", "A" * 65, "REQ 1", "REQ/1", "REQ#1", "réq-1", "REQ-1\n"],
)
async def test_an_identifier_outside_the_charset_or_length_is_refused(stack, request_id):
    request = make_request()
    request["request_id"] = request_id
    assert _fields(await _post(stack, "/cases", request, "intake")) == {"request_id"}
    assert await stack.pool.fetchval("SELECT count(*) FROM authorizations") == 0


async def test_identifiers_of_64_characters_of_the_charset_are_taken(stack):
    request = make_request(request_id=("Az09._:-" * 8)[:64])
    case_id = (await stack.submit(request))["case_id"]
    line = claim_for(request, claim_id="C" * 64)
    r = await _post(stack, f"/cases/{case_id}/claims", line, "claims")
    assert r.status_code == 200, r.text
    event = {"event_id": "E:v.1_x-" * 8, "type": "live_vaccine", "date": today().isoformat()}
    r = await _post(stack, f"/cases/{case_id}/events", event, "clinical")
    assert r.status_code == 202, r.text


async def test_coerced_values_in_claims_events_and_actions_change_nothing(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    base = f"/cases/{case_id}"
    day = today().isoformat()
    refused = [
        ("claims", claim_for(request, units="35"), "claims", {"units"}),
        ("claims", claim_for(request, line=1.5), "claims", {"line"}),
        ("claims", claim_for(request, date_of_service=0), "claims", {"date_of_service"}),
        ("claims", claim_for(request, reversal="false"), "claims", {"reversal"}),
        ("claims", claim_for(request, claim_id="CLM 1"), "claims", {"claim_id"}),
        ("claims", {**claim_for(request), "payer": "x"}, "claims", {"payer"}),
        ("events", {"event_id": "EV-1", "type": "death", "date": 0}, "clinical", {"date"}),
        ("events", {"event_id": "EV-1", "type": "weight", "date": day,
                    "weight": {"weight_kg": "70"}}, "clinical", {"weight.weight_kg"}),
        ("events", {"event_id": "EV-1", "type": "toxicity", "date": day,
                    "toxicity": {"kind": "crs", "grade": "3"}}, "clinical", {"toxicity.grade"}),
        ("events", {"event_id": "EV-1", "type": "death", "date": day,
                    "toxicity": {"kind": "crs", "grade": 3}}, "clinical", {"toxicity"}),
        ("events", {"event_id": "EV 1", "type": "death", "date": day}, "clinical", {"event_id"}),
        ("events", {"event_id": "EV-1", "type": "sneeze", "date": day}, "clinical", {"type"}),
        ("events", {"event_id": "EV-1", "type": "death", "date": day, "sent_by": "x"},
         "clinical", {"sent_by"}),  # the sender is the credential's subject, never the body's
        ("events", {"event_id": "EV-1", "type": "retraction", "date": day,
                    "retraction": {"retracts": "EV 0", "reason": "x"}}, "clinical",
         {"retraction.retracts"}),
        ("extensions", {"days": "14", "rationale": "x"}, "reviewer", {"days"}),
        ("review", {"determination": "approve", "x": 1}, "reviewer", {"x"}),
        ("info", {"facts": {"diagnosis.b_cell_precursor": "yes"}}, "intake",
         {"facts.diagnosis.b_cell_precursor"}),
        ("renewals", {"facts": {"clinical.weight_kg": "70"}}, "intake",
         {"facts.clinical.weight_kg"}),
    ]  # fmt: skip
    for suffix, body, role, fields in refused:
        r = await _post(stack, f"{base}/{suffix}", body, role)
        assert _fields(r) == fields, (suffix, body, r.text)
        assert '"yes"' not in r.text and "'yes'" not in r.text  # inputs are not echoed
    assert await stack.pool.fetchval("SELECT count(*) FROM claim_lines") == 0
    assert await _event_rows(stack, case_id) == []
    case = await stack.case(case_id)
    assert case["status"] == "active" and case["units"]["units_paid"] == 0


async def test_facts_of_the_wrong_type_are_refused_by_field_without_echoing_them(stack):
    request = make_request(base="request-pend.json")
    case_id = (await stack.submit(request))["case_id"]
    assert await stack.wait_status(case_id, "pended") == "pended"
    r = await _post(
        stack, f"/cases/{case_id}/info", {"facts": {"diagnosis.mrd_percent": "0.4"}}, "intake"
    )
    assert _fields(r) == {"facts.diagnosis.mrd_percent"}
    assert "0.4" not in r.text
    assert (await stack.case(case_id))["status"] == "pended"


# ------------------------------------------------------------------ event dates


async def test_an_event_dated_before_receipt_or_after_today_is_refused_and_changes_nothing(
    stack,
):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    for day in (today() - timedelta(days=1), today() + timedelta(days=1)):
        event = {"event_id": f"EV-{day}", "type": "death", "date": day.isoformat()}
        r = await _post(stack, f"/cases/{case_id}/events", event, "clinical")
        assert _fields(r) == {"date"}, r.text
    case = await stack.case(case_id)
    assert case["status"] == "active"
    assert await _event_rows(stack, case_id) == []
    assert [c["status"] for c in case["status_changes"]] == ["received", "active"]


# ------------------------------------------------------------------ retraction


async def test_a_death_then_its_retraction_brings_the_case_back_to_active(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    day = today().isoformat()
    death = {"event_id": "EV-DEATH", "type": "death", "date": day}
    r = await _post(stack, f"/cases/{case_id}/events", death, "clinical")
    assert r.status_code == 202 and r.json()["status"] == "discontinued", r.text

    undo = {
        "event_id": "EV-UNDO",
        "type": "retraction",
        "date": day,
        "retraction": {"retracts": "EV-DEATH", "reason": "entered in error"},
    }
    r = await _post(stack, f"/cases/{case_id}/events", undo, "clinical")
    assert r.status_code == 202 and r.json()["status"] == "active", r.text
    r = await _post(stack, f"/cases/{case_id}/events", undo, "clinical")
    assert r.status_code == 202 and r.json()["duplicate"]  # a repeated id is ignored

    assert await _event_rows(stack, case_id) == [("EV-DEATH", "death"), ("EV-UNDO", "retraction")]
    case = await stack.case(case_id)
    assert case["status"] == "active"
    assert [c["status"] for c in case["status_changes"]] == [
        "received", "active", "discontinued", "active",
    ]  # fmt: skip
    for _ in range(50):
        notices = await stack.pool.fetch(
            "SELECT kind, text FROM notifications WHERE case_id = $1 AND kind = 'reinstated'",
            case_id,
        )
        if notices:
            break
        await asyncio.sleep(0.2)
    [notice] = notices
    assert request["member"]["member_id"] not in notice["text"]
    assert request["member"]["last_name"] not in notice["text"]
    assert day not in notice["text"]  # no date of death in the notice
    assert await stack.workflow_count(f"WorkflowId = '{case_id}' AND AuthStatus = 'active'", 10)


async def test_retracting_an_unknown_or_already_retracted_event_is_refused(stack):
    request = make_request()
    case_id = (await stack.submit(request))["case_id"]
    day = today().isoformat()

    def retraction(event_id: str, target: str) -> dict[str, Any]:
        return {
            "event_id": event_id,
            "type": "retraction",
            "date": day,
            "retraction": {"retracts": target, "reason": "entered in error"},
        }

    r = await _post(stack, f"/cases/{case_id}/events", retraction("EV-X", "EV-NONE"), "clinical")
    assert _fields(r) == {"retraction.retracts"}
    tox = {"event_id": "EV-T", "type": "toxicity", "date": day,
           "toxicity": {"kind": "crs", "grade": 4}}  # fmt: skip
    assert (await _post(stack, f"/cases/{case_id}/events", tox, "clinical")).status_code == 202
    r = await _post(stack, f"/cases/{case_id}/events", retraction("EV-U1", "EV-T"), "clinical")
    assert r.status_code == 202, r.text
    r = await _post(stack, f"/cases/{case_id}/events", retraction("EV-U2", "EV-T"), "clinical")
    assert r.status_code == 409, r.text
    assert "already retracted" in r.json()["message"]
    assert await _event_rows(stack, case_id) == [("EV-T", "toxicity"), ("EV-U1", "retraction")]


# ------------------------------------------------------------------ search


@pytest.mark.parametrize("day", ["0934-05-26", "0001-01-01", "1969-12-31", "2262-04-12", "0"])
async def test_a_period_end_temporal_cannot_hold_is_422_naming_the_parameter(api_only, day):
    for name in ("period_end_before", "period_end_after"):
        r = await api_only.get("/cases", params={name: day}, headers=auth("read-only"))
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [name]


@pytest.mark.parametrize("day", ["1970-01-01", "2262-04-11"])
async def test_the_bounds_of_the_period_end_filter_are_answered(api_only, day):
    r = await api_only.get("/cases", params={"period_end_before": day}, headers=auth("read-only"))
    assert r.status_code == 200, r.text


async def test_the_openapi_document_states_the_drug_and_the_event_union(api_only):
    spec = (await api_only.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert schemas["Service"]["properties"]["hcpcs"]["enum"] == ["J9039"]
    assert "55513" in schemas["Service"]["properties"]["ndc"]["anyOf"][0]["pattern"]
    body = spec["paths"]["/cases/{case_id}/events"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].split("/")[-1]
    union = schemas[ref]
    assert union["discriminator"]["propertyName"] == "type"
    assert "retraction" in union["discriminator"]["mapping"]
    params = spec["paths"]["/cases"]["get"]["parameters"]
    before = next(p for p in params if p["name"] == "period_end_before")
    assert "1970-01-01" in before["description"] and "2262-04-11" in before["description"]
