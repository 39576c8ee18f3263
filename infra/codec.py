"""Payload encryption for Temporal: AES-256-GCM with rotatable keys (issue #7).

Every payload a client or worker hands to Temporal (workflow and activity
inputs and results, update/signal/query arguments, memos, static summaries
and details, activity and timer summaries, current details, failure details)
goes through :class:`EncryptionCodec`, so the server's histories hold only
ciphertext. Search attributes are not payloads the codec sees: they stay in
clear and must never carry PHI (DESIGN.md, Temporal specifics).

Wire format of an encrypted payload::

    metadata = {"encoding": b"binary/encrypted", "encryption-key-id": b"<key id>"}
    data     = nonce (12 random bytes) || AES-GCM(ciphertext || 16-byte tag)

The plaintext is the whole serialized inner payload (its metadata and data),
and the key id is bound as associated data, so neither can be altered
unnoticed. Keys come from ``CODEC_KEYS`` ("keyid:base64key,keyid:base64key");
the first key encrypts, all of them decrypt. To rotate, put a new key first
and keep the old ones for as long as histories encrypted with them live.

``CODEC_KEYS=none`` turns encryption off on purpose. Left empty it is off
too, but unchosen: ``priorauth dev`` then makes a key for its data dir, and
the worker and the API warn that payloads go to Temporal in clear.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

if TYPE_CHECKING:
    from infra.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
#: The CODEC_KEYS value that chooses no encryption (any case, surrounding spaces allowed).
NO_ENCRYPTION = "none"


class CodecError(ValueError):
    """A payload cannot be decrypted, or the key configuration is unusable."""


class UnknownKeyError(CodecError):
    """The payload was encrypted with a key id this process does not hold."""


def generate_key() -> bytes:
    """A fresh random AES-256 key (32 bytes from the OS CSPRNG)."""
    return secrets.token_bytes(KEY_BYTES)


def generate_key_id() -> str:
    """A short random key id, e.g. ``k3f9a1c2d``: unique enough to never be reused."""
    return f"k{secrets.token_hex(4)}"


def format_key(key_id: str, key: bytes) -> str:
    """One ``CODEC_KEYS`` entry: ``keyid:base64key``."""
    _check_key(key_id, key)
    return f"{key_id}:{base64.b64encode(key).decode()}"


def encryption_off(spec: str) -> bool:
    """Whether ``CODEC_KEYS`` says, explicitly, to run without encryption (``none``)."""
    return spec.strip().lower() == NO_ENCRYPTION


def parse_keys(spec: str) -> tuple[dict[str, bytes], str | None]:
    """Parse ``CODEC_KEYS`` into ``({key_id: key}, first key id)``; ``none`` holds no keys.

    Raises :class:`CodecError` naming the offending key id (never key material).
    """
    keys: dict[str, bytes] = {}
    first: str | None = None
    if encryption_off(spec):
        return keys, first
    for index, raw in enumerate(part.strip() for part in spec.split(",")):
        if not raw:
            continue
        key_id, sep, encoded = raw.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise CodecError(f"CODEC_KEYS entry {index + 1} is not 'keyid:base64key'")
        if key_id in keys:
            raise CodecError(f"CODEC_KEYS lists key id {key_id!r} twice")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise CodecError(f"CODEC_KEYS key {key_id!r} is not valid base64") from None
        _check_key(key_id, key)
        keys[key_id] = key
        first = first or key_id
    return keys, first


def _check_key(key_id: str, key: bytes) -> None:
    if not key_id or any(c in key_id for c in ":, \t\n"):
        raise CodecError(f"key id {key_id!r} must be non-empty, without ':', ',' or spaces")
    if len(key) != KEY_BYTES:
        raise CodecError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256), got {len(key)}")


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over whole payloads; the key id travels in the payload metadata."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        # Imported here, not at module level: the workflow sandbox re-imports
        # modules and cannot re-import cryptography's native extension.
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._invalid_tag = InvalidTag
        if active_key_id not in keys:
            raise CodecError(f"active key id {active_key_id!r} is not among the keys")
        for key_id, key in keys.items():
            _check_key(key_id, key)
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id this codec can decrypt (the active one first)."""
        others = (k for k in self._ciphers if k != self.active_key_id)
        return (self.active_key_id, *others)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        """The payload, serialized whole and encrypted under the active key."""
        key_id = self.active_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload; payloads that are not encrypted pass through unchanged."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_id is None:
            raise CodecError(f"encrypted payload has no {KEY_ID_METADATA!r} metadata")
        key_id = raw_id.decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"payload encrypted with key id {key_id!r}, which is not in CODEC_KEYS "
                f"(known: {', '.join(self.key_ids)}); add that key back to decrypt it"
            )
        data = payload.data
        if len(data) < NONCE_BYTES + 16:
            raise CodecError(f"encrypted payload (key {key_id!r}) is truncated")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], raw_id)
            return Payload.FromString(plain)
        except self._invalid_tag:
            raise CodecError(
                f"encrypted payload (key {key_id!r}) failed authentication: "
                "tampered with, or the key under that id changed"
            ) from None
        except DecodeError:
            raise CodecError(f"decrypted payload (key {key_id!r}) is not a Payload") from None


def codec_from_settings(settings: Settings) -> EncryptionCodec | None:
    """The codec for ``settings.codec_keys`` (first key active); None when it is empty or none."""
    keys, first = parse_keys(settings.codec_keys)
    if first is None:
        return None
    return EncryptionCodec(keys, first)
