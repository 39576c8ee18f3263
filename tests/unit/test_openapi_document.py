"""The OpenAPI document states what the API does (api/openapi.py, api/responses.py).

The live check is tests/e2e/test_openapi_contract.py (schemathesis against the
stack); these hold the document's shape and the answers that need no Temporal.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.bodies import ProvideInfoBody, RenewalBody, as_message
from api.openapi import CASE_OPERATIONS, STORABLE_PATTERN, case_id_schema
from infra.settings import Settings
from tests.api_tokens import API_TOKENS, auth
from workflows.messages import ProvideInfoInput

ERROR_BODY = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def app():
    return create_app(Settings(api_tokens=API_TOKENS), client=object(), pool=object())


@pytest.fixture(scope="module")
def doc(app) -> dict[str, Any]:
    return app.openapi()


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_every_route_lists_every_status_it_can_answer_with_the_error_body(doc):
    for path, method, op in operations(doc):
        answers = op["responses"]
        expected = {"413", "500"}
        if op.get("security"):
            expected |= {"401", "403"}
            assert answers["401"]["headers"]["WWW-Authenticate"], (method, path)
        if "requestBody" in op:
            expected |= {"400", "422"}
        if "{case_id}" in path:
            expected |= {"404", "502", "503"}
        assert expected <= answers.keys(), (method, path, sorted(answers))
        for status, answer in answers.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_BODY}, (method, path, status)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_the_bearer_scheme_is_declared_and_required_everywhere_but_health_and_logout(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["CodecSession"] == {**schemes["CodecSession"], "in": "cookie", "type": "apiKey"}
    by_id = {op["operationId"]: op for _, _, op in operations(doc)}
    assert by_id["decode"]["security"] == [{"HTTPBearer": []}, {"CodecSession": []}]
    open_routes = {(path, method) for path, method, op in operations(doc) if not op.get("security")}
    assert open_routes == {("/healthz", "get"), ("/codec/session", "delete")}


def test_links_lead_from_a_submitted_case_to_every_route_of_that_case(doc):
    by_id = {op["operationId"]: op for _, _, op in operations(doc)}
    for status in ("200", "201"):
        links = by_id["submit"]["responses"][status]["links"]
        assert {link["operationId"] for link in links.values()} == set(CASE_OPERATIONS)
        for link in links.values():
            assert link["parameters"] == {"case_id": "$response.body#/case_id"}
    for name in CASE_OPERATIONS:
        assert "{case_id}" in next(p for p, _, op in operations(doc) if op["operationId"] == name)


def _request_strings(doc) -> list[dict[str, Any]]:
    """Every string schema a request body reaches, by following references."""
    schemas = doc["components"]["schemas"]
    found: list[dict[str, Any]] = []
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref and ref not in seen:
                seen.add(ref)
                walk(schemas[ref.rsplit("/", 1)[1]])
            if node.get("type") == "string":
                found.append(node)
            for key, value in node.items():
                if key not in ("examples", "default", "description"):
                    walk(value)

    for _, _, op in operations(doc):
        walk(op.get("requestBody", {}))
    return found


def test_request_strings_say_they_cannot_hold_nul(doc):
    strings = _request_strings(doc)
    assert strings
    for schema in strings:
        if {"format", "enum", "const"} & schema.keys():
            continue
        pattern = re.compile(schema["pattern"])
        assert not pattern.search("a\x00b"), schema
        if schema["pattern"] == STORABLE_PATTERN:
            assert pattern.search("Ada 😀\n\u0085")


def test_a_case_id_is_pa_and_a_request_id():
    pattern = re.compile(case_id_schema()["pattern"])
    assert pattern.fullmatch("pa-REQ-1001")
    assert not pattern.fullmatch("REQ-1001")
    assert not pattern.fullmatch("pa-")


def test_facts_are_the_requests_own_fields_dotted_or_by_section(doc):
    facts = doc["components"]["schemas"]["RequestFacts"]
    assert facts["additionalProperties"] is False
    assert {"diagnosis.mrd_percent", "diagnosis", "clinical.weight_kg"} <= facts[
        "properties"
    ].keys()
    assert doc["components"]["schemas"]["InfoFacts"]["minProperties"] == 1

    body = ProvideInfoBody.model_validate(
        {"facts": {"diagnosis.mrd_percent": 0.4, "therapy": {"tki": "dasatinib"}}}
    )
    assert as_message(body, ProvideInfoInput).facts == {
        "diagnosis.mrd_percent": 0.4,
        "therapy": {"tki": "dasatinib"},
    }
    for bad, field in [
        ({"facts": {}}, ("facts",)),
        ({"facts": {"diagnosis.nope": 1}}, ("facts", "diagnosis.nope")),
        ({"facts": {"diagnosis": {"mrd_percent": 101}}}, ("facts", "diagnosis", "mrd_percent")),
        ({"facts": {"diagnosis": None}}, ("facts", "diagnosis")),
    ]:
        with pytest.raises(ValueError) as caught:
            ProvideInfoBody.model_validate(bad)
        assert caught.value.errors()[0]["loc"] == field
    assert RenewalBody.model_validate({}).model_dump(exclude_unset=True) == {}


@pytest.fixture
async def http(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe"])
async def test_a_body_that_is_not_json_is_a_400_naming_the_body(http, content):
    headers = {**auth("intake"), "content-type": "application/json"}
    response = await http.post("/cases", content=content, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed"
    assert [e["field"] for e in response.json()["errors"]] == ["body"]


async def test_a_405_allows_every_method_of_the_path(http):
    response = await http.put("/cases", headers=auth("admin"))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_bodies_no_route_reads_are_not_inspected(http):
    response = await http.request(
        "GET", "/healthz", content=b'{"a": "\\u0000"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 200


def test_bounds_of_strict_numbers_are_stated_in_json_schema_words(doc):
    text = json.dumps(doc)
    assert not re.search(r'"(gt|ge|lt|le|multiple_of)": ', text)
    clinical = doc["components"]["schemas"]["Clinical"]["properties"]["height_cm"]["anyOf"][0]
    assert (clinical["exclusiveMinimum"], clinical["maximum"]) == (0, 300)


def test_the_period_end_filter_states_its_days_as_a_pattern():
    from api.search import FIRST_QUERY_DAY, LAST_QUERY_DAY, QUERY_DAY_PATTERN

    pattern = re.compile(QUERY_DAY_PATTERN)
    day = date(1900, 1, 1)
    while day < date(2400, 1, 1):
        assert bool(pattern.fullmatch(day.isoformat())) == (
            FIRST_QUERY_DAY <= day <= LAST_QUERY_DAY
        ), day
        day += timedelta(days=1)
