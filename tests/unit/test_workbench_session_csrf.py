"""Workbench sessions: CSRF tokens, cookie attributes, who may do what
(api/workbench/session.py), and the decision form (api/workbench/routes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.responses import Response
from starlette.requests import Request

from api.identity import Principal, Role
from api.workbench.routes import decision_form
from api.workbench.session import (
    Session,
    csrf_matches,
    may_decide,
    may_use,
    secure_cookie,
    sees_phi,
    set_session_cookie,
)

TRACKS = {"consolidation", "relapsed_refractory"}


def who(*roles: Role) -> Principal:
    return Principal(subject="someone", roles=frozenset(roles), via="token")


def request(url_scheme: str = "http", host: str = "127.0.0.1") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": url_scheme,
            "path": "/workbench",
            "query_string": b"",
            "headers": [(b"host", host.encode())],
            "server": (host, 80),
        }
    )


@pytest.mark.parametrize("presented", [None, "", 42, "another-token", "the-token "])
def test_a_csrf_token_that_is_missing_or_different_does_not_match(presented):
    assert not csrf_matches("the-token", presented)


def test_only_the_sessions_own_csrf_token_matches():
    assert csrf_matches("the-token", "the-token")
    assert not csrf_matches(None, "the-token")
    assert not csrf_matches("", "")


def test_roles_read_the_queue_decide_and_see_phi_as_the_api_allows():
    assert may_use(who(Role.READ_ONLY)) and not may_decide(who(Role.READ_ONLY))
    assert not sees_phi(who(Role.READ_ONLY))
    assert may_use(who(Role.REVIEWER)) and may_decide(who(Role.REVIEWER))
    assert sees_phi(who(Role.REVIEWER))
    assert may_decide(who(Role.ADMIN)) and sees_phi(who(Role.ADMIN))
    for role in (Role.INTAKE, Role.CLAIMS, Role.CLINICAL):
        assert not may_use(who(role)) and not may_decide(who(role)) and not sees_phi(who(role))


def test_the_cookie_is_secure_outside_dev_and_off_loopback():
    assert secure_cookie(request(), dev=False)  # production, even on localhost
    assert secure_cookie(request("https"), dev=True)
    assert secure_cookie(request(host="workbench.example.org"), dev=True)
    assert not secure_cookie(request(), dev=True)  # the dev stack over plain http
    assert not secure_cookie(request(host="localhost"), dev=True)


@pytest.mark.parametrize("secure", [True, False])
def test_the_session_cookie_is_httponly_strict_and_scoped_to_the_workbench(secure):
    response = Response()
    ends = datetime.now(UTC) + timedelta(hours=8)
    set_session_cookie(response, "sid", Session(who(Role.REVIEWER), "c", ends), secure=secure)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("priorauth_workbench=sid;")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/workbench" in cookie
    assert ("Secure" in cookie) is secure
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 8 * 3600 - 5 <= max_age <= 8 * 3600


def test_a_decision_form_becomes_the_apis_review_body():
    body, errors = decision_form(
        {"csrf_token": "t", "determination": "approve", "rationale": " ok ", "track": ""}, TRACKS
    )
    assert errors == {}
    assert body.model_dump(exclude_unset=True) == {"determination": "approve", "rationale": "ok"}
    body, _ = decision_form(
        {"determination": "deny", "rationale": "no", "track": "consolidation"}, TRACKS
    )
    assert (body.determination, body.track) == ("deny", "consolidation")


def test_a_form_naming_the_reviewer_is_refused_naming_the_field():
    body, errors = decision_form(
        {"determination": "approve", "rationale": "ok", "reviewer_id": "md-ben"}, TRACKS
    )
    assert body is None and set(errors) == {"reviewer_id"}
    assert "md-ben" not in errors["reviewer_id"]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"determination": "approve"}, "rationale"),
        ({"determination": "approve", "rationale": "   "}, "rationale"),
        ({"determination": "approve", "rationale": "x" * 2001}, "rationale"),
        ({"determination": "approve", "rationale": "a\x00b"}, "rationale"),
        ({"determination": "withdraw", "rationale": "ok"}, "determination"),
        ({"rationale": "ok"}, "determination"),
        ({"determination": "approve", "rationale": "ok", "track": "nope"}, "track"),
    ],
)
def test_a_bad_decision_form_names_its_field_and_sends_nothing(form, field):
    body, errors = decision_form(form, TRACKS)
    assert body is None and list(errors) == [field]
