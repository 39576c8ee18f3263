"""The codec server router, mounted in a small app and called as the Temporal UI calls it.

Sessions live in PostgreSQL: the tests that open one give the app a fresh database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI, Request

from api.auth import Principal, Role
from api.codec_server import SESSION_COOKIE, CodecSessions, codec_router
from api.errors import ApiError
from infra.codec import ENCODING, KEY_ID_METADATA, EncryptionCodec, format_key, generate_key
from infra.settings import Settings
from tests.api_tokens import API_TOKENS, TOKENS

UI = "http://localhost:8233"
TOKEN = TOKENS["reviewer"]
ADMIN_TOKEN = TOKENS["admin"]
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


async def _authenticate(request: Request) -> Principal:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise ApiError(401, "unauthorized", "bad token", headers={"WWW-Authenticate": "Bearer"})
    return Principal(subject="rph-ana", roles=frozenset({Role.REVIEWER}), via="token")


def _app(settings: Settings = SETTINGS, pool=None, **kwargs) -> FastAPI:
    app = FastAPI()
    app.state.pool = pool
    app.include_router(
        codec_router(settings, authenticate=_authenticate, **kwargs), prefix="/codec"
    )
    return app


def _client(app: FastAPI, base_url: str = "https://api.example") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


def _sealed_body(payload) -> dict:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
                "data": base64.b64encode(payload.data).decode(),
            }
        ]
    }


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


async def test_decode_refuses_unencrypted_payloads_under_configured_keys() -> None:
    async with _client(_app()) as client:
        response = await client.post("/codec/decode", json=PLAIN, headers=_ui_headers())

    assert response.status_code == 400
    assert "not encrypted" in response.json()["detail"]
    assert "Josephine" not in response.text
    assert response.headers["access-control-allow-origin"] == UI


async def test_plain_payloads_decode_when_explicitly_allowed() -> None:
    allowing = Settings(codec_keys=format_key("k1", KEY), codec_allow_plaintext=True)
    async with _client(_app(allowing)) as client:
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


async def test_payload_from_an_unknown_key_is_a_400_naming_no_key_id() -> None:
    from temporalio.api.common.v1 import Payload

    [sealed] = await EncryptionCodec({"Josephine": generate_key()}, "Josephine").encode(
        [Payload(data=b"1")]
    )
    settings = Settings(codec_keys=f"{format_key('k-live', KEY)},{format_key('k-old', KEY)}")

    async with _client(_app(settings)) as client:
        response = await client.post(
            "/codec/decode", json=_sealed_body(sealed), headers=_ui_headers()
        )

    assert response.status_code == 400
    assert "key this server does not hold" in response.json()["detail"]
    for never in ("Josephine", "k-live", "k-old"):
        assert never not in response.text
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


REV, CLM, INT = TOKENS["reviewer"], TOKENS["claims"], TOKENS["intake"]


async def test_in_the_real_api_only_phi_viewers_decode_and_refusals_keep_cors(db_pool) -> None:
    from api.app import create_app

    settings = Settings(codec_keys=format_key("k1", KEY), api_tokens=API_TOKENS)
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
        intake = await client.post(
            "/codec/encode", json=PLAIN, headers=_ui_headers(Authorization=f"Bearer {INT}")
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
    assert (anonymous.status_code, claims.status_code, intake.status_code) == (401, 403, 403)
    for refused in (anonymous, claims, intake):
        assert refused.headers["access-control-allow-origin"] == UI
        assert "payloads" not in refused.json()
    assert encoded.status_code == 200
    assert encoded.json() != PLAIN
    assert decoded.json() == PLAIN


def _cookie(response: httpx.Response) -> dict[str, str]:
    """The Set-Cookie of ``response``: name=value and its attributes (lower-cased keys)."""
    [header] = response.headers.get_list("set-cookie")
    first, *attrs = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    out = {"name": name, "value": value}
    for attr in attrs:
        key, _, val = attr.partition("=")
        out[key.lower()] = val or "true"
    return out


async def test_a_browser_session_cookie_stands_in_for_the_bearer_token(db_pool) -> None:
    async with _client(_app(pool=db_pool)) as client:
        no_session = await client.post(
            "/codec/decode", json=PLAIN, headers={"Origin": UI, "X-Namespace": "default"}
        )
        opened = await client.post("/codec/session", headers={"Authorization": f"Bearer {TOKEN}"})
        # The Temporal UI's call: cookies ("Include cross-origin credentials"), no bearer.
        encoded = await client.post(
            "/codec/encode", json=PLAIN, headers={"Origin": UI, "X-Namespace": "default"}
        )
        decoded = await client.post(
            "/codec/decode", json=encoded.json(), headers={"Origin": UI, "X-Namespace": "default"}
        )

    assert no_session.status_code == 401
    assert opened.status_code == 204
    assert encoded.status_code == 200
    assert base64.b64decode(encoded.json()["payloads"][0]["metadata"]["encoding"]) == ENCODING
    assert encoded.headers["access-control-allow-credentials"] == "true"
    assert decoded.json() == PLAIN
    assert "set-cookie" not in encoded.headers  # use never renews the session


async def test_the_session_cookie_is_a_random_id_not_the_token(db_pool) -> None:
    async with _client(_app(pool=db_pool)) as client:
        first = _cookie(
            await client.post("/codec/session", headers={"Authorization": f"Bearer {TOKEN}"})
        )
        second = _cookie(
            await client.post("/codec/session", headers={"Authorization": f"Bearer {TOKEN}"})
        )

    assert first["name"] == SESSION_COOKIE
    assert TOKEN not in first["value"] and first["value"] != second["value"]
    assert len(first["value"]) >= 43  # 32 random bytes, url-safe
    stored = {r["id_hash"] for r in await db_pool.fetch("SELECT id_hash FROM codec_sessions")}
    assert first["value"] not in stored and second["value"] not in stored
    # Opening a new session from a browser that has one ends the old one.
    assert stored == {hashlib.sha256(second["value"].encode()).hexdigest()}


async def test_the_session_cookie_is_httponly_strict_scoped_and_secure_off_localhost(
    db_pool,
) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    cookies = {}
    for base in ("https://api.example", "http://api.example", "http://localhost:8000"):
        async with _client(_app(pool=db_pool), base) as client:
            cookies[base] = _cookie(await client.post("/codec/session", headers=bearer))

    for cookie in cookies.values():
        assert cookie["httponly"] == "true"
        assert cookie["samesite"].lower() == "strict"
        assert cookie["path"] == "/codec"
        assert int(cookie["max-age"]) == 8 * 3600 and "expires" in cookie
    # Behind a TLS terminator the API sees plain http: only localhost goes without Secure.
    assert "secure" in cookies["https://api.example"]
    assert "secure" in cookies["http://api.example"]
    assert "secure" not in cookies["http://localhost:8000"]


async def test_a_session_expires_at_its_absolute_end_however_much_it_is_used(db_pool) -> None:
    sessions = CodecSessions(timedelta(seconds=3))
    app = _app(pool=db_pool, sessions=sessions)
    async with _client(app) as client:
        opened = await client.post("/codec/session", headers={"Authorization": f"Bearer {TOKEN}"})
        [before] = await db_pool.fetch("SELECT expires_at FROM codec_sessions")
        uses = []
        for _ in range(3):
            response = await client.post("/codec/encode", json=PLAIN, headers={"Origin": UI})
            uses.append((response.status_code, "set-cookie" in response.headers))
            await asyncio.sleep(0.3)
        [after] = await db_pool.fetch("SELECT expires_at FROM codec_sessions")
    await asyncio.sleep(3.0)
    async with _client(app) as late:  # the cookie itself, presented after the end
        late.cookies.set(SESSION_COOKIE, _cookie(opened)["value"], domain="api.example")
        expired = await late.post("/codec/encode", json=PLAIN, headers={"Origin": UI})

    assert _cookie(opened)["max-age"] == "3"
    assert uses == [(200, False)] * 3
    assert before["expires_at"] == after["expires_at"]
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


async def test_a_session_is_revoked_by_logout_and_its_cookie_no_longer_works(db_pool) -> None:
    async with _client(_app(pool=db_pool)) as client:
        opened = await client.post("/codec/session", headers={"Authorization": f"Bearer {TOKEN}"})
        session_id = _cookie(opened)["value"]
        closed = await client.delete("/codec/session")

    async with _client(_app(pool=db_pool)) as replay:  # the stolen cookie, replayed
        replay.cookies.set(SESSION_COOKIE, session_id, domain="api.example", path="/codec")
        after = await replay.post("/codec/decode", json=PLAIN, headers={"Origin": UI})

    assert closed.status_code == 204
    assert _cookie(closed)["max-age"] == "0"
    assert await db_pool.fetchval("SELECT count(*) FROM codec_sessions") == 0
    assert after.status_code == 401


async def test_an_admin_ends_every_session(db_pool) -> None:
    async def admin(request: Request) -> Principal:
        if request.headers.get("authorization") != f"Bearer {ADMIN_TOKEN}":
            raise ApiError(403, "forbidden", "admin only")
        return Principal(subject="ops-admin", roles=frozenset({Role.ADMIN}), via="token")

    app = _app(pool=db_pool, admin=admin)
    async with _client(app) as one, _client(app) as two:
        for browser in (one, two):
            await browser.post("/codec/session", headers={"Authorization": f"Bearer {TOKEN}"})
        refused = await one.delete("/codec/sessions", headers={"Authorization": f"Bearer {TOKEN}"})
        ended = await one.delete(
            "/codec/sessions", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        after = [
            (await b.post("/codec/decode", json=PLAIN, headers={"Origin": UI})).status_code
            for b in (one, two)
        ]

    assert refused.status_code == 403
    assert ended.json() == {"ended": 2}
    assert after == [401, 401]


async def test_a_session_is_opened_only_with_a_valid_token(db_pool) -> None:
    async with _client(_app(pool=db_pool)) as client:
        refused = await client.post("/codec/session", headers={"Authorization": "Bearer wrong"})

    assert refused.status_code == 401
    assert "set-cookie" not in refused.headers
    assert await db_pool.fetchval("SELECT count(*) FROM codec_sessions") == 0


async def test_an_unknown_session_cookie_is_refused(db_pool) -> None:
    async with _client(_app(pool=db_pool)) as client:
        client.cookies.set(SESSION_COOKIE, TOKEN, domain="api.example", path="/codec")
        response = await client.post(
            "/codec/decode", json=PLAIN, headers={"Origin": UI, "X-Namespace": "default"}
        )

    assert response.status_code == 401


async def test_in_the_real_api_only_reviewers_and_admins_open_a_session(db_pool) -> None:
    from api.app import create_app

    app = create_app(
        Settings(codec_keys=format_key("k1", KEY), api_tokens=API_TOKENS), pool=db_pool
    )

    async with _client(app) as client:
        claims = await client.post("/codec/session", headers={"Authorization": f"Bearer {CLM}"})
        intake = await client.post("/codec/session", headers={"Authorization": f"Bearer {INT}"})
        reviewer = await client.post("/codec/session", headers={"Authorization": f"Bearer {REV}"})
        encoded = await client.post("/codec/encode", json=PLAIN, headers={"Origin": UI})
        decoded = await client.post("/codec/decode", json=encoded.json(), headers={"Origin": UI})

    assert (claims.status_code, intake.status_code) == (403, 403)
    assert "set-cookie" not in claims.headers and "set-cookie" not in intake.headers
    assert reviewer.status_code == 204
    assert decoded.status_code == 200
    assert decoded.json() == PLAIN


async def test_a_session_stands_for_its_openers_subject_and_the_audit_names_them(db_pool) -> None:
    from api.app import create_app

    app = create_app(
        Settings(codec_keys=format_key("k1", KEY), api_tokens=API_TOKENS), pool=db_pool
    )
    async with _client(app) as client:
        opened = await client.post("/codec/session", headers={"Authorization": f"Bearer {REV}"})
        [stored] = await db_pool.fetch("SELECT subject, roles, auth FROM codec_sessions")
        encoded = await client.post("/codec/encode", json=PLAIN, headers={"Origin": UI})
        decoded = await client.post(
            "/codec/decode",
            json=encoded.json(),
            headers={"Origin": UI, "X-Namespace": "default", "X-Workflow-Id": "pa-7"},
        )
        closed = await client.delete("/codec/session")
    rows = await db_pool.fetch(
        "SELECT subject, roles, auth, action, case_id, payloads, namespace, status"
        " FROM access_audit ORDER BY id"
    )

    assert (opened.status_code, decoded.status_code, closed.status_code) == (204, 200, 204)
    assert dict(stored) == {"subject": "rph-ana", "roles": ["reviewer"], "auth": "token"}
    assert [(r["action"], r["subject"], r["roles"], r["auth"], r["status"]) for r in rows] == [
        ("open_session", "rph-ana", ["reviewer"], "token", 204),
        ("encode", "rph-ana", ["reviewer"], "token", 200),
        ("decode", "rph-ana", ["reviewer"], "token", 200),
        ("close_session", "rph-ana", ["reviewer"], "token", 204),
    ]
    decode_row = rows[2]
    assert (decode_row["case_id"], decode_row["payloads"], decode_row["namespace"]) == (
        "pa-7",
        2,
        "default",
    )
    assert REV not in str([dict(r) for r in rows])


async def test_a_session_whose_roles_are_not_accepted_is_refused(db_pool) -> None:
    """A session stands for the roles it was opened with; the router checks them on use."""
    sessions = CodecSessions()
    session_id, _ = await sessions.open(
        db_pool, Principal(subject="claims-system", roles=frozenset({Role.CLAIMS}), via="token")
    )
    app = _app(pool=db_pool, sessions=sessions, roles=(Role.REVIEWER, Role.ADMIN))
    async with _client(app) as client:
        client.cookies.set(SESSION_COOKIE, session_id, domain="api.example", path="/codec")
        response = await client.post("/codec/decode", json=PLAIN, headers={"Origin": UI})

    assert response.status_code == 401


async def test_a_wildcard_origin_setting_allows_no_one() -> None:
    async with _client(_app(allowed_origins=["*"])) as client:
        response = await client.post("/codec/encode", json=PLAIN, headers=_ui_headers())

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_the_login_page_runs_only_its_own_script_and_loads_nothing_else() -> None:
    import re

    async with _client(_app()) as client:
        page = await client.get("/codec/login")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    [script] = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = page.headers["content-security-policy"]
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert not re.search(r"\b(src|href)=", page.text)  # nothing loaded from anywhere
    assert 'fetch("session"' in script and "Authorization" in script
