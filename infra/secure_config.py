"""Secure by default: outside dev and test, the worker and the API refuse to start on
settings that would leak PHI or make its protection a public secret.

``PRIORAUTH_ENV`` says what the process is: ``production`` (the default, so a
deployment that forgets to say gets the strict rules), ``dev`` (``priorauth
dev``) or ``test`` (the test suite). In production:

- ``CODEC_KEYS`` must hold keys: empty, or ``none`` (the explicit opt-out of
  encryption, for dev and test only), would send every payload, PHI included,
  to Temporal in clear;
- ``MEMBER_REF_KEY`` must not be the public development default, and must be
  at least 32 characters: with a known key anyone can recompute MemberRef
  (a search attribute in clear) from a member id;
- a webhook channel must be https and signed (``NOTIFY_WEBHOOK_SECRET``, at
  least 32 characters).

In every environment the Temporal TLS files must be readable, and a client
certificate comes with its key.

:func:`refuse_insecure` raises :class:`InsecureSettings` with every problem in
one line; the entry points (``python worker.py``, ``uvicorn api.main:app``) print
it and exit non-zero without a traceback (:func:`exit_if_insecure`).
"""

from __future__ import annotations

import sys
from typing import NoReturn
from urllib.parse import urlsplit

from pydantic import ValidationError

from infra.codec import CodecError, encryption_off, parse_keys
from infra.settings import Settings, get_settings

#: The development default of MEMBER_REF_KEY (infra/settings.py): public, so never in production.
DEV_MEMBER_REF_KEY = Settings.model_fields["member_ref_key"].default
MIN_SECRET_CHARS = 32


class InsecureSettings(RuntimeError):
    """Settings a production process must not run with (the message is one line)."""


def insecure_reasons(settings: Settings) -> list[str]:
    """What is wrong with ``settings`` for this process's environment (empty: fine)."""
    problems = tls_problems(settings)
    try:
        keys, _ = parse_keys(settings.codec_keys)
    except CodecError as exc:
        return [*problems, str(exc)]
    if settings.is_dev:
        return problems
    if encryption_off(settings.codec_keys):
        problems.append("CODEC_KEYS=none (no encryption) is allowed only with PRIORAUTH_ENV=dev")
    elif not keys:
        problems.append(
            "CODEC_KEYS is empty: payloads (PHI) would reach Temporal in clear "
            "(make keys with priorauth keygen)"
        )
    if settings.member_ref_key == DEV_MEMBER_REF_KEY:
        problems.append("MEMBER_REF_KEY is the public development default (set a secret one)")
    elif len(settings.member_ref_key) < MIN_SECRET_CHARS:
        problems.append(f"MEMBER_REF_KEY is shorter than {MIN_SECRET_CHARS} characters")
    if settings.notify_channel == "webhook":
        problems.extend(webhook_problems(settings))
    return problems


def webhook_problems(settings: Settings) -> list[str]:
    """A webhook outside dev/test: https only, and signed with a long enough secret."""
    problems = []
    url = settings.notify_webhook_url or ""
    if url and urlsplit(url).scheme.lower() != "https" and not settings.is_dev:
        problems.append("NOTIFY_WEBHOOK_URL must be https outside PRIORAUTH_ENV=dev")
    secret = settings.notify_webhook_secret or ""
    if not settings.is_dev and len(secret) < MIN_SECRET_CHARS:
        problems.append(
            f"NOTIFY_WEBHOOK_SECRET must be set, at least {MIN_SECRET_CHARS} characters"
        )
    return problems


def tls_problems(settings: Settings) -> list[str]:
    """The TEMPORAL_TLS_* files: readable, and a client certificate only with its key."""
    problems = []
    cert, key = settings.temporal_tls_client_cert, settings.temporal_tls_client_key
    if (cert is None) != (key is None):
        problems.append("TEMPORAL_TLS_CLIENT_CERT and TEMPORAL_TLS_CLIENT_KEY go together")
    for name, path in (
        ("TEMPORAL_TLS_SERVER_CA_CERT", settings.temporal_tls_server_ca_cert),
        ("TEMPORAL_TLS_CLIENT_CERT", cert),
        ("TEMPORAL_TLS_CLIENT_KEY", key),
    ):
        if path is not None and not path.is_file():
            problems.append(f"{name} is not a readable file")
    return problems


def warnings(settings: Settings) -> list[str]:
    """Allowed, but worth a line in the log at start."""
    found = []
    if settings.codec_allow_plaintext and settings.codec_keys.strip():
        found.append(
            "CODEC_ALLOW_PLAINTEXT=true: unencrypted payloads are accepted; turn it off "
            "once no history from before encryption is read any more"
        )
    if not settings.is_dev and not temporal_tls_on(settings):
        found.append("the connection to Temporal is not TLS (TEMPORAL_TLS_*; README, Security)")
    return found


def temporal_tls_on(settings: Settings) -> bool:
    return settings.temporal_tls or any(
        p is not None
        for p in (
            settings.temporal_tls_server_ca_cert,
            settings.temporal_tls_client_cert,
            settings.temporal_tls_client_key,
        )
    )


def load_settings(program: str) -> Settings:
    """The process's settings; a value the model refuses is one line on stderr and exit 2."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = [
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        ]
        fail(program, "invalid settings: " + "; ".join(problems))


def refuse_insecure(settings: Settings) -> None:
    """Raise :class:`InsecureSettings` (one line, every problem) unless ``settings`` are fine."""
    problems = insecure_reasons(settings)
    if problems:
        raise InsecureSettings(
            f"refusing to start (PRIORAUTH_ENV={settings.priorauth_env}): " + "; ".join(problems)
        )


def exit_if_insecure(program: str, settings: Settings) -> None:
    """For entry points: print the one-line refusal to stderr and exit 2, no traceback."""
    try:
        refuse_insecure(settings)
    except InsecureSettings as exc:
        fail(program, str(exc))


def fail(program: str, message: str) -> NoReturn:
    print(f"{program}: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)
