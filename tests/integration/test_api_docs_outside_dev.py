"""The OpenAPI document and its pages: open in dev and test, behind a token in production."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from infra.codec import format_key, generate_key
from infra.settings import Settings
from tests.api_tokens import API_TOKENS, auth

PRODUCTION = {
    "priorauth_env": "production",
    "codec_keys": format_key("k1", generate_key()),
    "member_ref_key": "a-member-ref-key-of-thirty-two-characters",
    "api_tokens": API_TOKENS,
}


def _client(settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, client=object(), pool=object())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


async def test_outside_dev_the_docs_pages_are_not_served_and_the_document_needs_a_token():
    async with _client(Settings(**PRODUCTION)) as http:
        docs = await http.get("/docs")
        redoc = await http.get("/redoc")
        anonymous = await http.get("/openapi.json")
        wrong = await http.get("/openapi.json", headers={"Authorization": "Bearer nope"})
        with_token = await http.get("/openapi.json", headers=auth("read-only"))
        with_docs_token = await http.get("/docs", headers=auth("admin"))

    assert (docs.status_code, redoc.status_code, with_docs_token.status_code) == (404, 404, 404)
    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert with_token.status_code == 200
    assert "/cases" in with_token.json()["paths"]
    assert "/openapi.json" not in with_token.json()["paths"]


@pytest.mark.parametrize("env", ["dev", "test"])
async def test_in_dev_and_test_the_docs_are_open(env):
    async with _client(Settings(priorauth_env=env, api_tokens=API_TOKENS)) as http:
        docs = await http.get("/docs")
        document = await http.get("/openapi.json")

    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert document.status_code == 200 and "/cases" in document.json()["paths"]
