"""Credentials -> subjects and roles (api/identity.py): the static token settings."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.identity import (
    MIN_TOKEN_LENGTH,
    Authenticator,
    CredentialError,
    Role,
    TokenTable,
    authenticator_from_settings,
    load_token_file,
    parse_algorithms,
    parse_tokens,
    valid_subject,
)
from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
A = "a" * MIN_TOKEN_LENGTH
B = "b" * 40


async def _who(spec: str, token: str):
    return await Authenticator(TokenTable(parse_tokens(spec))).authenticate(token)


async def test_a_token_names_its_subject_and_roles():
    who = await _who(f"{A}=dr.ana@plan.example:reviewer+read-only,{B}=claims-gw:claims", A)
    assert who.subject == "dr.ana@plan.example"
    assert who.roles == {Role.REVIEWER, Role.READ_ONLY}
    assert who.via == "token"
    assert (await _who(f"{A}=x:reviewer,{B}=claims-gw:claims", B)).subject == "claims-gw"


async def test_the_older_token_role_form_still_loads_with_a_subject_derived_from_the_token():
    who = await _who(f"{A}:reviewer,{B}:reviewer", A)
    assert who.roles == {Role.REVIEWER}
    assert who.subject == f"reviewer:{hashlib.sha256(A.encode()).hexdigest()[:12]}"
    other = await _who(f"{A}:reviewer,{B}:reviewer", B)
    assert other.subject != who.subject  # two tokens, two people
    assert A not in who.subject


async def test_an_unknown_token_identifies_no_one():
    with pytest.raises(CredentialError):
        await _who(f"{A}=ana:reviewer", B)


@pytest.mark.parametrize(
    "spec",
    [
        "short-token=ana:reviewer",
        "short-token:admin",
        f"{'x' * (MIN_TOKEN_LENGTH - 1)}=ana:reviewer",
    ],
)
def test_a_token_shorter_than_the_minimum_is_refused_naming_the_rule(spec):
    with pytest.raises(ValueError, match=f"at least {MIN_TOKEN_LENGTH}") as err:
        parse_tokens(spec)
    assert spec.split("=")[0].split(":")[0] not in str(err.value)  # the token is never echoed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (f"{A}=ana:surgeon", "unknown role 'surgeon'"),
        (f"{A}=:reviewer", "write token=subject:role"),
        (f"{A}=ana", "write token=subject:role"),
        (f"{A}= ana :reviewer", "subject"),
        (f"{A}=dr ana:reviewer", "subject"),
        (f"{A[:-1]}é=ana:reviewer", "only A-Z"),
        (f"{A}=ana:", "unknown role ''"),
    ],
)
def test_malformed_entries_are_refused_by_entry(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_tokens(spec)


def test_a_token_given_twice_is_refused():
    with pytest.raises(ValueError, match="given twice"):
        TokenTable(parse_tokens(f"{A}=ana:reviewer,{A}=ben:reviewer"))


async def test_a_token_file_lists_people_and_systems(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            [
                {"token": A, "subject": "ana", "roles": ["reviewer"]},
                {"token": B, "subject": "claims-gw", "roles": ["claims"]},
            ]
        )
    )
    entries = load_token_file(path)
    assert [e.subject for e in entries] == ["ana", "claims-gw"]
    settings = Settings(api_tokens=f"{'c' * 32}=ben:intake", api_tokens_file=path)
    identities = authenticator_from_settings(settings)
    assert (await identities.authenticate(B)).subject == "claims-gw"
    assert (await identities.authenticate("c" * 32)).subject == "ben"


def test_a_token_file_with_a_short_token_is_refused(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps([{"token": "tiny", "subject": "ana", "roles": ["reviewer"]}]))
    with pytest.raises(ValueError, match="at least 32"):
        load_token_file(path)


def test_the_api_refuses_to_start_with_a_short_token():
    from api.app import create_app

    with pytest.raises(ValueError, match="at least 32"):
        create_app(Settings(api_tokens="tok-admin:admin"))


def test_the_served_api_stops_at_start_with_one_clear_line_for_a_short_token():
    env = {**os.environ, "API_TOKENS": "tok-admin=ops:admin"}
    run = subprocess.run(
        [sys.executable, "-c", "import api.main"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "priorauth API cannot start" in run.stderr and "at least 32" in run.stderr
    assert "Traceback" not in run.stderr and "tok-admin" not in run.stderr


@pytest.mark.parametrize("spec", ["none", "HS256", "RS256,HS512", ""])
def test_oidc_algorithms_are_an_asymmetric_allow_list(spec):
    with pytest.raises(ValueError, match="OIDC_ALGORITHMS"):
        parse_algorithms(spec)
    assert parse_algorithms("RS256, ES256") == ["RS256", "ES256"]


def test_oidc_needs_issuer_and_audience_with_its_jwks_url():
    settings = Settings(oidc_jwks_url="http://127.0.0.1:9/jwks.json", oidc_issuer="https://idp")
    with pytest.raises(ValueError, match="OIDC_AUDIENCE"):
        authenticator_from_settings(settings)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("ana", True), ("auth0|5f1c", True), ("ana ", False), (" ana", False), ("", False),
     ("a\x00b", False), (7, False), ("x" * 256, False)],
)  # fmt: skip
def test_a_provider_subject_is_taken_exactly_or_refused(value, ok):
    assert valid_subject(value) is ok
