"""OIDC/JWT bearer tokens for people (api/identity.py), against a JWKS served on loopback.

A locally generated RSA key signs the tokens; its public half is served as a
JWKS by a small HTTP server on a free 127.0.0.1 port. The route used is the
codec's ``/decode`` (reviewers and admins; no Temporal needed), and every call
leaves its access-audit row, so the subject the API took is read back there.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from infra.settings import Settings

ISSUER = "https://idp.plan.example/realms/pharmacy"
AUDIENCE = "priorauth-api"
KID = "test-key-1"
PLAIN = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IjEi"}]}


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _rsa_key()
OTHER_KEY = _rsa_key()


@dataclass
class Jwks:
    url: str
    hits: int = 0


@pytest_asyncio.fixture
async def jwks() -> AsyncIterator[Jwks]:
    """The provider's JWKS on a free loopback port (never the internet)."""
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}).encode()
    served = Jwks(url="")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            served.hits += 1
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    served.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/certs"
    yield served
    server.close()
    await server.wait_closed()


def _token(key=KEY, *, algorithm="RS256", kid=KID, **claims) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "f2b1c0de-ana",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "realm_access": {"roles": ["reviewer", "offline_access"]},
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def _settings(jwks_url: str, **changes) -> Settings:
    return Settings(
        oidc_jwks_url=jwks_url,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_roles_claim="realm_access.roles",
        oidc_leeway_seconds=0,
        **changes,
    )


@pytest_asyncio.fixture
async def api(jwks, db_pool) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    app = create_app(_settings(jwks.url), pool=db_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def _decode(api: httpx.AsyncClient, token: str) -> httpx.Response:
    return await api.post("/codec/decode", json=PLAIN, headers={"Authorization": f"Bearer {token}"})


async def _audit(db_pool) -> list[dict]:
    rows = await db_pool.fetch("SELECT subject, roles, auth, status FROM access_audit ORDER BY id")
    return [dict(r) for r in rows]


async def test_a_valid_token_is_accepted_with_its_subject_and_roles(api, db_pool):
    r = await _decode(api, _token())
    assert r.status_code == 200, r.text
    assert r.json() == PLAIN
    [row] = await _audit(db_pool)
    assert row == {"subject": "f2b1c0de-ana", "roles": ["reviewer"], "auth": "jwt", "status": 200}


async def test_a_token_whose_roles_do_not_allow_the_route_is_403(api, db_pool):
    r = await _decode(api, _token(realm_access={"roles": ["read-only"]}))
    assert r.status_code == 403
    r = await _decode(api, _token(realm_access=None))
    assert r.status_code == 403
    assert [row["subject"] for row in await _audit(db_pool)] == ["f2b1c0de-ana"] * 2


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: _token(exp=int(time.time()) - 60), "expired"),
        (lambda: _token(nbf=int(time.time()) + 600), "not yet valid"),
        (lambda: _token(aud="another-api"), "wrong audience"),
        (lambda: _token(iss="https://evil.example"), "wrong issuer"),
        (lambda: _token(OTHER_KEY), "bad signature"),
        (lambda: _token(OTHER_KEY, kid="unknown-kid"), "no matching signing key"),
        (lambda: _token(None, algorithm="none"), "algorithm not allowed"),
        (lambda: _token(exp=None), "invalid token"),
        (lambda: _token(sub=" f2b1c0de-ana"), "sub"),
    ],
    ids=["expired", "not-yet", "audience", "issuer", "wrong-key", "unknown-kid", "alg-none",
         "no-exp", "padded-subject"],
)  # fmt: skip
async def test_a_bad_token_is_401(api, db_pool, token, reason):
    r = await _decode(api, token())
    assert r.status_code == 401, r.text
    assert reason in r.json()["message"]
    [row] = await _audit(db_pool)
    assert (row["subject"], row["status"]) == (None, 401)


async def test_an_hmac_token_keyed_with_the_public_key_is_refused(api):
    """The classic algorithm confusion: HS256 with the provider's public key as the secret."""
    from cryptography.hazmat.primitives import serialization

    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": now + 300,
              "realm_access": {"roles": ["admin"]}}  # fmt: skip
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(mac)}"
    r = await _decode(api, forged)
    assert r.status_code == 401


async def test_the_provider_keys_are_fetched_once_and_cached(api, jwks):
    for _ in range(3):
        assert (await _decode(api, _token())).status_code == 200
    assert jwks.hits == 1


async def test_an_unreachable_provider_is_503_not_a_refusal(db_pool):
    from api.app import create_app
    from infra.devserver import free_port

    app = create_app(_settings(f"http://127.0.0.1:{free_port()}/certs"), pool=db_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        r = await _decode(client, _token())
    assert r.status_code == 503


async def test_static_tokens_and_jwts_work_side_by_side(jwks, db_pool):
    from api.app import create_app

    machine = "m" * 40
    app = create_app(_settings(jwks.url, api_tokens=f"{machine}=ui-proxy:reviewer"), pool=db_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        assert (await _decode(client, machine)).status_code == 200
        assert (await _decode(client, _token())).status_code == 200
    assert [(r["subject"], r["auth"]) for r in await _audit(db_pool)] == [
        ("ui-proxy", "token"),
        ("f2b1c0de-ana", "jwt"),
    ]


@pytest.mark.parametrize("algorithms", ["none", "HS256"])
def test_an_unsafe_algorithm_setting_stops_the_api_at_start(algorithms):
    from api.app import create_app

    with pytest.raises(ValueError, match="OIDC_ALGORITHMS"):
        create_app(_settings("http://127.0.0.1:9/certs", oidc_algorithms=algorithms))
