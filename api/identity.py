"""Who is calling: a bearer credential -> a subject and its roles (README, Security).

Two kinds of credential, one ``Principal``:

- **static tokens**, one per person or system, from ``API_TOKENS``
  (``token=subject:role+role,…``) and/or ``API_TOKENS_FILE`` (JSON,
  ``[{"token", "subject", "roles"}]``). The older ``token:role`` form still
  loads; its subject is then ``<role>:<first 12 hex of the token's SHA-256>``,
  stable for the token and distinct between tokens, never the token itself.
  Every token is at least ``MIN_TOKEN_LENGTH`` characters of
  ``A–Z a–z 0–9 . _ ~ + / -``; anything else stops the API at start with a
  message naming the entry (by subject or position, never by its token).
  Only SHA-256 digests of the tokens are kept, compared in constant time.
- **OIDC/JWT access tokens** for people, when ``OIDC_JWKS_URL`` is set: the
  signature is checked against the identity provider's JWKS (``PyJWKClient``,
  keys cached), with an allow-list of asymmetric algorithms (``none`` and
  HS* are refused at start), and ``exp`` (required), ``nbf``, ``iss`` and
  ``aud`` are checked. The subject is the configured claim (``sub``) exactly
  as the provider gives it; the roles are the configured claim's values that
  name one of our roles (others are ignored).

A subject is compared exactly everywhere (the appeal rule among others): no
case folding, no trimming. A subject with surrounding blanks or control
characters is refused rather than normalised, so no two spellings of one
person can exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

#: The shortest static token accepted (README, Security).
MIN_TOKEN_LENGTH = 32
#: Characters of a static token: URL-safe base64, base64 without padding, hex.
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+/-]+")
#: A static token's subject: what an operator writes for a person or a system.
_SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:|+-]{0,127}")
#: Asymmetric JWS algorithms only: an HMAC secret is not a provider's public key.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_SUBJECT_LENGTH = 255


class Role(StrEnum):
    """The roles of DESIGN.md / issue #6; ``admin`` may do everything."""

    INTAKE = "intake"
    CLAIMS = "claims"
    CLINICAL = "clinical"
    REVIEWER = "reviewer"
    READ_ONLY = "read-only"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller: who (``subject``), what they may do (``roles``) and how they proved it."""

    subject: str
    roles: frozenset[Role]
    via: Literal["token", "jwt"]

    @property
    def role_names(self) -> list[str]:
        return sorted(r.value for r in self.roles)


class CredentialError(Exception):
    """The credential does not identify anyone (401); ``message`` is safe to return."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IdentityProviderUnavailable(Exception):
    """The identity provider's keys could not be fetched (503): nobody is refused for it."""


# --------------------------------------------------------------------------- static tokens


@dataclass(frozen=True)
class TokenEntry:
    """One static token, kept as its SHA-256 digest."""

    digest: bytes
    subject: str
    roles: frozenset[Role]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _roles(names: Iterable[str], where: str) -> frozenset[Role]:
    roles = set()
    for name in names:
        try:
            roles.add(Role(name.strip()))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise ValueError(f"{where}: unknown role {name.strip()!r} (roles: {allowed})") from None
    if not roles:
        raise ValueError(f"{where}: no role given")
    return frozenset(roles)


def _entry(token: str, subject: str | None, roles: frozenset[Role], where: str) -> TokenEntry:
    if not _TOKEN_CHARS.fullmatch(token):
        raise ValueError(f"{where}: a token may hold only A-Z a-z 0-9 . _ ~ + / -")
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"{where}: the token has {len(token)} characters; at least {MIN_TOKEN_LENGTH} are "
            "required (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if subject is None:  # the older "token:role" form: a stable pseudonym per token
        (role,) = roles
        subject = f"{role.value}:{hashlib.sha256(token.encode()).hexdigest()[:12]}"
    elif not _SUBJECT.fullmatch(subject):
        raise ValueError(
            f"{where}: subject {subject[:40]!r} must be 1-128 characters of "
            "A-Z a-z 0-9 . _ @ : | + - starting with a letter or digit"
        )
    return TokenEntry(digest=_digest(token), subject=subject, roles=roles)


def parse_tokens(spec: str) -> list[TokenEntry]:
    """``API_TOKENS``: ``token=subject:role+role`` or ``token:role`` entries, comma-separated."""
    entries: list[TokenEntry] = []
    for n, item in enumerate(spec.split(","), start=1):
        item = item.strip()
        if not item:
            continue
        token, eq, rest = item.partition("=")
        if eq:
            subject, sep, role_spec = rest.rpartition(":")
            where = f"API_TOKENS entry {n} ({subject[:40] or 'no subject'})"
            if not sep or not subject:
                raise ValueError(f"{where}: write token=subject:role+role")
            roles = _roles(role_spec.split("+"), where)
            entries.append(_entry(token.strip(), subject, roles, where))
        else:
            token, sep, role = item.rpartition(":")
            where = f"API_TOKENS entry {n}"
            if not sep or not token:
                raise ValueError(f"{where}: write token=subject:role+role (or token:role)")
            entries.append(_entry(token.strip(), None, _roles([role], where), where))
    return entries


def load_token_file(path: Path) -> list[TokenEntry]:
    """``API_TOKENS_FILE``: a JSON list of ``{"token", "subject", "roles": [...]}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"API_TOKENS_FILE {path}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"API_TOKENS_FILE {path}: not JSON (line {exc.lineno})") from None
    if isinstance(data, dict):
        data = data.get("tokens")
    if not isinstance(data, list):
        raise ValueError(f"API_TOKENS_FILE {path}: expected a list of token entries")
    entries = []
    for n, item in enumerate(data, start=1):
        where = f"API_TOKENS_FILE {path} entry {n}"
        if not isinstance(item, dict) or set(item) - {"token", "subject", "roles"}:
            raise ValueError(f"{where}: expected {{'token', 'subject', 'roles'}}")
        token, subject, roles = item.get("token"), item.get("subject"), item.get("roles")
        if not isinstance(token, str) or not isinstance(subject, str):
            raise ValueError(f"{where}: token and subject must be strings")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValueError(f"{where}: roles must be a list of role names")
        entries.append(_entry(token, subject, _roles(roles, f"{where} ({subject[:40]})"), where))
    return entries


class TokenTable:
    """Static tokens by digest; a lookup compares with every entry, in constant time each."""

    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        self._entries = list(entries)
        seen: set[bytes] = set()
        for entry in self._entries:
            if entry.digest in seen:
                raise ValueError(f"API_TOKENS: a token is given twice (subject {entry.subject})")
            seen.add(entry.digest)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, token: str) -> TokenEntry | None:
        presented = _digest(token)
        found: TokenEntry | None = None
        for entry in self._entries:
            if hmac.compare_digest(entry.digest, presented):
                found = entry
        return found


# --------------------------------------------------------------------------- OIDC / JWT


def parse_algorithms(spec: str) -> list[str]:
    algorithms = [a.strip() for a in spec.split(",") if a.strip()]
    if not algorithms:
        raise ValueError("OIDC_ALGORITHMS: name at least one algorithm (e.g. RS256)")
    for alg in algorithms:
        if alg not in ASYMMETRIC_ALGORITHMS:
            allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
            raise ValueError(f"OIDC_ALGORITHMS: {alg!r} is not allowed (allowed: {allowed})")
    return algorithms


def _claim(claims: dict[str, Any], dotted: str) -> Any:
    node: Any = claims
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def valid_subject(value: Any) -> bool:
    """A subject as a provider gives it: a non-empty string, no blanks around, no controls."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_SUBJECT_LENGTH
        and value == value.strip()
        and not any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
    )


class JwtVerifier:
    """Checks an OIDC access token against the provider's JWKS (blocking: run it in a thread)."""

    def __init__(
        self,
        *,
        jwks_url: str,
        issuer: str,
        audience: str,
        algorithms: list[str],
        subject_claim: str = "sub",
        roles_claim: str = "roles",
        leeway_seconds: int = 30,
    ) -> None:
        import jwt

        self._jwt = jwt
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._issuer = issuer
        self._audience = audience
        self._algorithms = algorithms
        self._subject_claim = subject_claim
        self._roles_claim = roles_claim
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Principal:
        jwt = self._jwt
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise CredentialError("unknown token") from None
        if header.get("alg") not in self._algorithms:
            raise CredentialError("invalid token: algorithm not allowed")
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise IdentityProviderUnavailable(str(exc)) from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise CredentialError("invalid token: no matching signing key") from None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise CredentialError("invalid token: expired") from None
        except jwt.ImmatureSignatureError:
            raise CredentialError("invalid token: not yet valid") from None
        except jwt.InvalidAudienceError:
            raise CredentialError("invalid token: wrong audience") from None
        except jwt.InvalidIssuerError:
            raise CredentialError("invalid token: wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise CredentialError("invalid token: bad signature") from None
        except jwt.InvalidTokenError:
            raise CredentialError("invalid token") from None
        subject = _claim(claims, self._subject_claim)
        if not valid_subject(subject):
            raise CredentialError(f"invalid token: no usable {self._subject_claim} claim")
        return Principal(subject=subject, roles=self._roles(claims), via="jwt")

    def _roles(self, claims: dict[str, Any]) -> frozenset[Role]:
        value = _claim(claims, self._roles_claim)
        names = value.split() if isinstance(value, str) else value
        if not isinstance(names, list):
            return frozenset()
        known = {r.value: r for r in Role}
        return frozenset(known[n] for n in names if isinstance(n, str) and n in known)


# --------------------------------------------------------------------------- both


class Authenticator:
    """A bearer credential -> its ``Principal``: a static token first, then a JWT."""

    def __init__(self, tokens: TokenTable, jwt_verifier: JwtVerifier | None = None) -> None:
        self.tokens = tokens
        self.jwt = jwt_verifier

    @property
    def configured(self) -> bool:
        return bool(len(self.tokens)) or self.jwt is not None

    async def authenticate(self, credential: str) -> Principal:
        entry = self.tokens.lookup(credential)
        if entry is not None:
            return Principal(subject=entry.subject, roles=entry.roles, via="token")
        if self.jwt is not None and credential.count(".") == 2:
            # PyJWKClient fetches the provider's keys with blocking I/O (then caches them).
            return await asyncio.to_thread(self.jwt.verify, credential)
        raise CredentialError("unknown token")


def authenticator_from_settings(settings: Any) -> Authenticator:
    """The API's identities from Settings; a ValueError names what is wrong (never a token)."""
    entries = parse_tokens(settings.api_tokens)
    if settings.api_tokens_file:
        entries += load_token_file(settings.api_tokens_file)
    verifier = None
    if settings.oidc_jwks_url:
        required = {"OIDC_ISSUER": settings.oidc_issuer, "OIDC_AUDIENCE": settings.oidc_audience}
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise ValueError(f"OIDC_JWKS_URL is set: {' and '.join(missing)} must be set too")
        verifier = JwtVerifier(
            jwks_url=settings.oidc_jwks_url,
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            algorithms=parse_algorithms(settings.oidc_algorithms),
            subject_claim=settings.oidc_subject_claim,
            roles_claim=settings.oidc_roles_claim,
            leeway_seconds=settings.oidc_leeway_seconds,
        )
    return Authenticator(TokenTable(entries), verifier)
