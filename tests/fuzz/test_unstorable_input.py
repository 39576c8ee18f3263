"""Input that passes the models' checks but cannot be stored, addressed or sent on.

Each of these is refused up front, naming its field, rather than accepted
and then failing later: an activity that cannot write its row fails on every
retry and leaves the case unable to answer anything (the API waits and
answers 504), and a case whose id the API's own routes refuse can never be
read, claimed against or withdrawn.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from api.limits import MAX_BODY_BYTES
from tests.api_tokens import auth
from tests.fuzz.conftest import Api, LiveCase
from tests.fuzz.fuzz_inputs import EVENTS, claim_body, request_body

NUL = "A\x00B"
SURROGATE = "\ud800"


def _json_with(body: dict, path: tuple, value: str) -> bytes:
    """``body`` as JSON text with ``value`` (unencodable in UTF-8) at ``path``."""
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = "@@HERE@@"
    escaped = json.dumps(value)  # ASCII escapes: "\u0000", "\ud800"
    return json.dumps(body).replace('"@@HERE@@"', escaped).encode()


def _fields(response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


@pytest.mark.parametrize("value", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(
    ("route", "body", "path", "field"),
    [
        ("/cases", request_body("UNSTORABLE-1"), ("member", "first_name"), "member.first_name"),
        ("/cases", request_body("UNSTORABLE-2"), ("request_id",), "request_id"),
        ("/cases", request_body("UNSTORABLE-3"), ("diagnosis", "icd10_codes", 0),
         "diagnosis.icd10_codes[0]"),
        ("/cases/pa-UNSTORABLE/claims", claim_body(), ("claim_id",), "claim_id"),
        ("/cases/pa-UNSTORABLE/events", dict(EVENTS[0]), ("event_id",), "event_id"),
        ("/cases/pa-UNSTORABLE/review", {"determination": "deny", "rationale": "x"},
         ("rationale",), "rationale"),
        ("/cases/pa-UNSTORABLE/withdraw", {"reason": "x"}, ("reason",), "reason"),
    ],
    ids=["request-name", "request-id", "request-code", "claim", "event", "review", "withdraw"],
)  # fmt: skip
async def test_nul_and_unpaired_surrogates_are_refused_by_field(
    api: Api, route, body, path, field, value
):
    response = await api.apost(route, _json_with(body, path, value))
    assert response.status_code == 422, response.text
    assert field in _fields(response)
    assert await api.workflow_count() == 0


@pytest.mark.parametrize(
    "request_id",
    ["R" * 254, "R" * 1200, "REQ\n1", "REQ\t1"],
    ids=["254-chars", "1200-chars", "newline", "tab"],
)
async def test_a_request_id_that_cannot_make_an_addressable_case_id_is_refused(
    api: Api, request_id: str
):
    """The case id is pa-<request_id>; the case routes take at most 256 characters, none < 32."""
    response = await api.apost("/cases", request_body(request_id), role="intake")
    assert response.status_code == 422, response.text
    assert "request_id" in _fields(response)
    assert await api.workflow_count() == 0


async def test_a_claim_line_beyond_what_the_ledger_stores_is_refused_and_the_case_still_answers(
    live_case: LiveCase, monkeypatch
):
    """claim_lines.line and .units are SQL integers (at most 2**31 - 1)."""
    changes = {"line": 2**31, "units": 2**63}
    from cases import client as case_client

    monkeypatch.setattr(case_client, "ANSWER_TIMEOUT", timedelta(seconds=8))
    api, path = live_case.api, f"/cases/{live_case.case_id}/claims"
    response = await api.apost(path, live_case.claim(claim_id="CLM-HUGE", **changes), "claims")
    assert response.status_code == 422, response.text
    assert set(changes) <= _fields(response)
    answer = await api.apost(path, live_case.claim(claim_id="CLM-NEXT"), "claims")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "paid"


async def test_oversized_bodies_are_refused_with_413_before_anything_else(api: Api):
    headers = {**auth("intake"), "content-type": "application/json"}
    big = request_body("OVERSIZED-1")
    big["diagnosis"]["icd10_codes"] = ["C91.00"] * (MAX_BODY_BYTES // 8)
    content = json.dumps(big).encode()
    assert len(content) > MAX_BODY_BYTES
    response = await api.http.post("/cases", content=content, headers=headers)
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "too_large"

    junk = b"x" * (4 * MAX_BODY_BYTES)
    response = await api.http.post("/cases/pa-ANY/claims", content=junk, headers=headers)
    assert response.status_code == 413, response.text

    async def chunks():  # no Content-Length: counted as it arrives
        for _ in range(8):
            yield b" " * (MAX_BODY_BYTES // 4)

    response = await api.http.post("/cases", content=chunks(), headers=headers)
    assert response.status_code == 413, response.text
    assert await api.workflow_count() == 0

    # A body just under the limit is read and validated as usual.
    response = await api.http.post(
        "/cases", content=b" " * (MAX_BODY_BYTES - 10) + b"[]", headers=headers
    )
    assert response.status_code == 422, response.text
