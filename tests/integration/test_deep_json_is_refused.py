"""JSON bodies nested deeper than 32 levels are refused before anything parses them."""

from __future__ import annotations

import json

import httpx
import pytest

from api.app import create_app
from api.limits import MAX_JSON_DEPTH, too_deep
from infra.settings import Settings
from tests.api_tokens import API_TOKENS, auth

PHI = "Josephine-Quillfeather-19610423"


def _nested(depth: int, leaf: object = PHI) -> object:
    for n in range(depth):
        leaf = [leaf] if n % 2 else {"k": leaf}
    return leaf


@pytest.mark.parametrize(
    ("path", "role"),
    [("/cases", "intake"), ("/cases/pa-X/claims", "claims"), ("/codec/decode", "reviewer")],
)
async def test_a_body_deeper_than_32_levels_is_a_clear_422(path, role):
    app = create_app(Settings(api_tokens=API_TOKENS), client=object(), pool=object())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        r = await http.post(path, json={"request": _nested(200)}, headers=auth(role))

    assert r.status_code == 422
    assert r.json() == {
        "error": "invalid",
        "message": "the input is not valid",
        "errors": [{"field": "body", "message": "JSON nested deeper than 32 levels"}],
    }
    assert PHI not in r.text


def test_depth_is_counted_on_arrays_and_objects_not_on_brackets_in_strings():
    assert not too_deep(json.dumps(_nested(MAX_JSON_DEPTH)).encode())
    assert too_deep(json.dumps(_nested(MAX_JSON_DEPTH + 1)).encode())
    assert not too_deep(json.dumps({"text": "[{" * 500 + '\\"]'}).encode())
    assert not too_deep(json.dumps([[1, 2]] * 1000).encode())  # wide is fine
