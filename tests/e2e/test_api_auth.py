"""Every route checks its bearer token and role: 401 without or with an unknown token,
403 with a role the route does not accept; /healthz is open, and the docs are in test mode
(production: tests/integration/test_api_docs_outside_dev.py)."""

from __future__ import annotations

from tests.api_tokens import TOKENS, auth

CASE = "/cases/pa-AUTH-1"

# route -> roles allowed besides admin
ROUTES: list[tuple[str, str, set[str]]] = [
    ("POST", "/cases", {"intake"}),
    ("GET", "/cases", {"reviewer", "read-only"}),
    ("GET", CASE, {"reviewer", "read-only"}),
    ("GET", f"{CASE}/timeline.svg", {"reviewer", "read-only"}),
    ("POST", f"{CASE}/info", {"intake"}),
    ("POST", f"{CASE}/review", {"reviewer"}),
    ("POST", f"{CASE}/appeal", {"intake"}),
    ("POST", f"{CASE}/withdraw", {"intake"}),
    ("POST", f"{CASE}/renewals", {"intake"}),
    ("POST", f"{CASE}/extensions", {"reviewer"}),
    ("POST", f"{CASE}/claims", {"claims"}),
    ("POST", f"{CASE}/events", {"clinical"}),
    # PHI through the codec: reviewers (and admins) only, not intake.
    ("POST", "/codec/decode", {"reviewer"}),
    ("POST", "/codec/encode", {"reviewer"}),
    ("POST", "/codec/session", {"reviewer"}),
    ("DELETE", "/codec/sessions", set()),
]
ROLES = sorted(TOKENS)


async def test_every_route_without_a_token_is_401(api_only):
    for method, path, _ in ROUTES:
        r = await api_only.request(method, path, json={})
        assert r.status_code == 401, (method, path, r.text)
        if not path.startswith("/codec"):
            assert r.json()["error"] == "unauthorized"
            assert r.headers["www-authenticate"] == "Bearer"


async def test_every_route_with_an_unknown_token_is_401(api_only):
    for method, path, _ in ROUTES:
        r = await api_only.request(method, path, json={}, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401, (method, path, r.text)


async def test_every_route_refuses_the_roles_it_does_not_name_with_403(api_only):
    for method, path, allowed in ROUTES:
        for role in ROLES:
            if role in allowed or role == "admin":
                continue
            r = await api_only.request(method, path, json={}, headers=auth(role))
            assert r.status_code == 403, (method, path, role, r.text)
            if not path.startswith("/codec"):
                assert role in r.json()["message"]


async def test_the_roles_a_route_names_and_admin_get_past_auth(api_only):
    """Past auth the answer is about the input or the case (422/404), never 401/403."""
    for method, path, allowed in ROUTES:
        for role in {*allowed, "admin"}:
            r = await api_only.request(method, path, json={}, headers=auth(role))
            assert r.status_code not in (401, 403), (method, path, role, r.status_code, r.text)


async def test_auth_is_checked_before_the_case_id_and_the_body(api_only):
    r = await api_only.post("/cases/not-a-case/claims", content=b"{broken")
    assert r.status_code == 401


async def test_a_basic_auth_header_is_not_a_bearer_token(api_only):
    r = await api_only.get("/cases", headers={"Authorization": "Basic dG9rLXJlYWQ6"})
    assert r.status_code == 401


async def test_health_and_in_test_mode_the_openapi_docs_are_open(api_only):
    assert (await api_only.get("/healthz")).json() == {"status": "ok"}
    spec = (await api_only.get("/openapi.json")).json()
    assert "/cases/{case_id}/claims" in spec["paths"]
    assert (await api_only.get("/docs")).status_code == 200
