"""The codec server router, mounted in a small app and called as the Temporal UI calls it."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException

from api.codec_server import codec_router
from infra.codec import ENCODING, KEY_ID_METADATA, EncryptionCodec, format_key, generate_key
from infra.settings import Settings

UI = "http://localhost:8233"
TOKEN = "reviewer-token"
KEY = generate_key()
SETTINGS = Settings(codec_keys=format_key("k1", KEY))
PLAIN = {
    "payloads": [
        {
            "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(b'{"first_name":"Josephine"}').decode(),
        },
        {
            "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(b'"1961-04-23"').decode(),
        },
    ]
}


def _require_token(authorization: str | None = Header(default=None)) -> None:
    if authorization != f"Bearer {TOKEN}":
        raise HTTPException(401, "missing or bad token", headers={"WWW-Authenticate": "Bearer"})


def _app(settings: Settings = SETTINGS, **kwargs) -> FastAPI:
    app = FastAPI()
    app.include_router(
        codec_router(settings, dependencies=[Depends(_require_token)], **kwargs), prefix="/codec"
    )
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


def _ui_headers(**extra: str) -> dict[str, str]:
    return {
        "Origin": UI,
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "X-Namespace": "default",
        **extra,
    }


async def test_encode_then_decode_round_trips_in_the_ui_json_format() -> None:
    async with _client(_app()) as client:
        encoded = await client.post("/codec/encode", json=PLAIN, headers=_ui_headers())
        decoded = await client.post("/codec/decode", json=encoded.json(), headers=_ui_headers())

    assert encoded.status_code == 200
    assert decoded.status_code == 200
    assert decoded.json() == PLAIN
    for payload in encoded.json()["payloads"]:
        metadata = {k: base64.b64decode(v) for k, v in payload["metadata"].items()}
        assert metadata == {"encoding": ENCODING, KEY_ID_METADATA: b"k1"}
    assert b"Josephine" not in base64.b64decode(encoded.json()["payloads"][0]["data"])
    assert encoded.headers["access-control-allow-origin"] == UI


async def test_decode_reads_what_a_worker_codec_encrypted() -> None:
    from temporalio.api.common.v1 import Payload

    [sealed] = await EncryptionCodec({"k1": KEY}, "k1").encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b'"M-77812345"')]
    )
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
                "data": base64.b64encode(sealed.data).decode(),
            }
        ]
    }

    async with _client(_app()) as client:
        response = await client.post("/codec/decode", json=body, headers=_ui_headers())

    assert response.status_code == 200
    [payload] = response.json()["payloads"]
    assert base64.b64decode(payload["data"]) == b'"M-77812345"'
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"


async def test_unencrypted_payloads_decode_unchanged() -> None:
    async with _client(_app()) as client:
        response = await client.post("/codec/decode", json=PLAIN, headers=_ui_headers())

    assert response.status_code == 200
    assert response.json() == PLAIN


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_cors_preflight_allows_the_ui_origin_without_credentials(path: str) -> None:
    async with _client(_app()) as client:
        response = await client.options(
            path,
            headers={
                "Origin": "http://127.0.0.1:8233",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )

    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:8233"
    assert "POST" in response.headers["access-control-allow-methods"]
    header_list = response.headers["access-control-allow-headers"].split(",")
    allowed = {h.strip().lower() for h in header_list}
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_cors_refuses_other_origins() -> None:
    async with _client(_app()) as client:
        preflight = await client.options(
            "/codec/decode",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        post = await client.post(
            "/codec/decode", json=PLAIN, headers=_ui_headers(Origin="http://evil.example")
        )

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in post.headers


async def test_allowed_origins_are_configurable() -> None:
    async with _client(_app(allowed_origins=["https://ui.example"])) as client:
        custom = await client.options(
            "/codec/decode",
            headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"},
        )
        default = await client.options(
            "/codec/decode", headers={"Origin": UI, "Access-Control-Request-Method": "POST"}
        )

    assert custom.headers["access-control-allow-origin"] == "https://ui.example"
    assert "access-control-allow-origin" not in default.headers


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_auth_dependency_guards_posts_and_the_refusal_keeps_cors(path: str) -> None:
    async with _client(_app()) as client:
        response = await client.post(
            path, json=PLAIN, headers=_ui_headers(Authorization="Bearer wrong")
        )

    assert response.status_code == 401
    assert "Josephine" not in response.text
    assert response.headers["access-control-allow-origin"] == UI
    assert response.headers["www-authenticate"] == "Bearer"


async def test_payload_from_an_unknown_key_is_a_400() -> None:
    from temporalio.api.common.v1 import Payload

    [sealed] = await EncryptionCodec({"gone": generate_key()}, "gone").encode([Payload(data=b"1")])
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
                "data": base64.b64encode(sealed.data).decode(),
            }
        ]
    }

    async with _client(_app()) as client:
        response = await client.post("/codec/decode", json=body, headers=_ui_headers())

    assert response.status_code == 400
    assert "'gone'" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == UI


@pytest.mark.parametrize("body", ["not json", json.dumps([1, 2]), json.dumps({"payloads": 3})])
async def test_malformed_bodies_are_a_400(body: str) -> None:
    async with _client(_app()) as client:
        response = await client.post("/codec/decode", content=body, headers=_ui_headers())

    assert response.status_code == 400


async def test_without_codec_keys_payloads_pass_through_both_ways() -> None:
    async with _client(_app(Settings(codec_keys=""))) as client:
        encoded = await client.post("/codec/encode", json=PLAIN, headers=_ui_headers())
        decoded = await client.post("/codec/decode", json=PLAIN, headers=_ui_headers())

    assert encoded.json() == PLAIN
    assert decoded.json() == PLAIN


REV, CLM = "rev-tok".ljust(32, "r"), "clm-tok".ljust(32, "c")


async def test_in_the_real_api_only_phi_viewers_decode_and_refusals_keep_cors(db_pool) -> None:
    from api.app import create_app

    settings = Settings(
        codec_keys=format_key("k1", KEY), api_tokens=f"{REV}=rph-1:reviewer,{CLM}=claims:claims"
    )
    app = create_app(settings, pool=db_pool)

    async with _client(app) as client:
        preflight = await client.options(
            "/codec/decode",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )
        anonymous = await client.post(
            "/codec/encode", json=PLAIN, headers={"Origin": UI, "X-Namespace": "default"}
        )
        claims = await client.post(
            "/codec/encode", json=PLAIN, headers=_ui_headers(Authorization=f"Bearer {CLM}")
        )
        encoded = await client.post(
            "/codec/encode", json=PLAIN, headers=_ui_headers(Authorization=f"Bearer {REV}")
        )
        decoded = await client.post(
            "/codec/decode",
            json=encoded.json(),
            headers=_ui_headers(Authorization=f"Bearer {REV}"),
        )

    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == UI
    assert (anonymous.status_code, claims.status_code) == (401, 403)
    for refused in (anonymous, claims):
        assert refused.headers["access-control-allow-origin"] == UI
        assert "payloads" not in refused.json()
    assert encoded.status_code == 200
    assert encoded.json() != PLAIN
    assert decoded.json() == PLAIN


async def test_a_browser_session_cookie_stands_in_for_the_bearer_token() -> None:
    async with _client(_app()) as client:
        no_session = await client.post(
            "/codec/decode", json=PLAIN, headers={"Origin": UI, "X-Namespace": "default"}
        )
        opened = await client.post("/codec/session", headers={"Authorization": f"Bearer {TOKEN}"})
        # The Temporal UI's call: cookies ("Include cross-origin credentials"), no bearer.
        encoded = await client.post(
            "/codec/encode", json=PLAIN, headers={"Origin": UI, "X-Namespace": "default"}
        )
        closed = await client.delete("/codec/session")
        after = await client.post(
            "/codec/decode", json=encoded.json(), headers={"Origin": UI, "X-Namespace": "default"}
        )

    assert no_session.status_code == 401
    assert opened.status_code == 204
    cookie = opened.headers["set-cookie"].lower()
    assert cookie.startswith("priorauth_codec=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/codec" in cookie
    assert encoded.status_code == 200
    assert base64.b64decode(encoded.json()["payloads"][0]["metadata"]["encoding"]) == ENCODING
    assert encoded.headers["access-control-allow-credentials"] == "true"
    assert closed.status_code == 204
    assert after.status_code == 401


async def test_a_session_is_opened_only_with_a_valid_token() -> None:
    async with _client(_app()) as client:
        refused = await client.post("/codec/session", headers={"Authorization": "Bearer wrong"})

    assert refused.status_code == 401
    assert "set-cookie" not in refused.headers


async def test_a_session_cookie_with_a_bad_token_is_refused() -> None:
    async with _client(_app()) as client:
        client.cookies.set("priorauth_codec", "stolen-or-stale")
        response = await client.post(
            "/codec/decode", json=PLAIN, headers={"Origin": UI, "X-Namespace": "default"}
        )

    assert response.status_code == 401


async def test_in_the_real_api_only_phi_viewers_open_a_session(db_pool) -> None:
    from api.app import create_app

    settings = Settings(codec_keys=format_key("k1", KEY), api_tokens=f"{REV}:reviewer,{CLM}:claims")
    app = create_app(settings, pool=db_pool)

    async with _client(app) as client:
        claims = await client.post("/codec/session", headers={"Authorization": f"Bearer {CLM}"})
        reviewer = await client.post("/codec/session", headers={"Authorization": f"Bearer {REV}"})
        decoded = await client.post("/codec/decode", json=PLAIN, headers={"Origin": UI})

    assert claims.status_code == 403
    assert "set-cookie" not in claims.headers
    assert reviewer.status_code == 204
    assert decoded.status_code == 200
    assert decoded.json() == PLAIN


async def test_a_wildcard_origin_setting_allows_no_one() -> None:
    async with _client(_app(allowed_origins=["*"])) as client:
        response = await client.post("/codec/decode", json=PLAIN, headers=_ui_headers())

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
