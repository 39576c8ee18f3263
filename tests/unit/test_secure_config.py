"""Which settings a process may start with, by PRIORAUTH_ENV (infra/secure_config.py)."""

from __future__ import annotations

import pytest

from infra.codec import format_key, generate_key
from infra.secure_config import InsecureSettings, insecure_reasons, refuse_insecure, warnings
from infra.settings import Settings

KEYS = format_key("k1", generate_key())
GOOD = {"codec_keys": KEYS, "member_ref_key": "m" * 32}


def test_production_is_the_default_environment(monkeypatch) -> None:
    monkeypatch.delenv("PRIORAUTH_ENV", raising=False)

    assert Settings(_env_file=None).priorauth_env == "production"


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_may_run_without_keys_or_with_codec_keys_none(env) -> None:
    assert insecure_reasons(Settings(priorauth_env=env, codec_keys="")) == []
    assert insecure_reasons(Settings(priorauth_env=env, codec_keys="none")) == []


def test_production_with_real_keys_starts() -> None:
    assert insecure_reasons(Settings(priorauth_env="production", **GOOD)) == []
    refuse_insecure(Settings(priorauth_env="production", **GOOD))


def test_production_refusals_are_one_line_naming_every_problem() -> None:
    with pytest.raises(InsecureSettings) as info:
        refuse_insecure(Settings(priorauth_env="production", member_ref_key="short"))

    message = str(info.value)
    assert "\n" not in message
    assert "CODEC_KEYS is empty" in message and "shorter than 32 characters" in message


def test_a_webhook_in_production_must_be_https_and_signed() -> None:
    hook = {**GOOD, "priorauth_env": "production", "notify_channel": "webhook"}

    assert len(insecure_reasons(Settings(**hook, notify_webhook_url="http://r/x"))) == 2
    assert (
        insecure_reasons(
            Settings(**hook, notify_webhook_url="https://r/x", notify_webhook_secret="s" * 32)
        )
        == []
    )


def test_a_client_certificate_needs_its_key_in_every_environment(tmp_path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")

    for env in ("test", "production"):
        problems = insecure_reasons(
            Settings(priorauth_env=env, **GOOD, temporal_tls_client_cert=cert)
        )
        assert problems == ["TEMPORAL_TLS_CLIENT_CERT and TEMPORAL_TLS_CLIENT_KEY go together"]


def test_production_warns_about_plain_temporal_and_allowed_plaintext() -> None:
    found = warnings(Settings(priorauth_env="production", **GOOD, codec_allow_plaintext=True))

    assert any("CODEC_ALLOW_PLAINTEXT" in w for w in found)
    assert any("not TLS" in w for w in found)
    assert warnings(Settings(priorauth_env="test")) == []


def test_the_temporal_client_takes_its_tls_from_the_settings(tmp_path) -> None:
    from temporalio.service import TLSConfig

    from infra.temporal import tls_config

    ca, cert, key = (tmp_path / n for n in ("ca.pem", "client.pem", "client.key"))
    for path in (ca, cert, key):
        path.write_bytes(f"PEM of {path.name}".encode())

    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_tls=True)) is True
    config = tls_config(
        Settings(
            temporal_tls_server_ca_cert=ca,
            temporal_tls_client_cert=cert,
            temporal_tls_client_key=key,
            temporal_tls_server_name="temporal.internal",
        )
    )
    assert config == TLSConfig(
        server_root_ca_cert=b"PEM of ca.pem",
        client_cert=b"PEM of client.pem",
        client_private_key=b"PEM of client.key",
        domain="temporal.internal",
    )
