"""Payload encryption for Temporal: AES-256-GCM with rotatable keys (issue #7).

Every payload a client or worker hands to Temporal (workflow and activity
inputs and results, update/signal/query arguments, memos, static summaries
and details, activity and timer summaries, current details, failure details)
goes through :class:`EncryptionCodec`, so the server's histories hold only
ciphertext. Search attributes are not payloads the codec sees: they stay in
clear and must never carry PHI (DESIGN.md, Temporal specifics).

Wire format of an encrypted payload::

    metadata = {"encoding": b"binary/encrypted", "encryption-key-id": b"<key id>",
                "encryption-workflow-id": b"<workflow id>"}          # when bound
    data     = nonce (12 random bytes) || AES-GCM(ciphertext || 16-byte tag)

The plaintext is the whole serialized inner payload (its metadata and data).
The associated data binds the key id and, when the SDK says which workflow the
payload belongs to, the workflow id: a ciphertext copied into another case's
history (or signal, or update) fails authentication there, and the metadata
cannot be edited or dropped unnoticed either.

Which workflow: temporalio (1.35) hands a codec that implements
``WithSerializationContext`` the workflow id of every workflow and activity
payload (client calls, the worker's activations and completions, activity
inputs and results). A codec without that context (the codec server behind
the Temporal UI, memos read by a listing) decrypts a bound payload with the id
its metadata names, so it still reads it; a codec *with* context refuses a
payload bound to another workflow. Payloads written before this binding
(``encryption-workflow-id`` absent: the key id alone is associated data) still
decrypt, bound to nothing; payloads encrypted without context (the codec
server's ``/encode``) are written that way too.

With keys configured, a payload that is not encrypted at all is an error, not
a pass-through: whatever the worker accepts was sealed under our keys, so a
plain payload slipped into a history or a signal by someone who can reach
Temporal is refused. ``CODEC_ALLOW_PLAINTEXT=true`` relaxes that for one
purpose: reading histories written before encryption was turned on.

Keys come from ``CODEC_KEYS`` ("keyid:base64key,keyid:base64key"); the first
key encrypts, all of them decrypt. To rotate, put a new key first and keep the
old ones for as long as histories encrypted with them live. Errors never list
the key ids this process holds.

``CODEC_KEYS=none`` turns encryption off on purpose. Left empty it is off
too, but unchosen: ``priorauth dev`` then makes a key for its data dir, and
the worker and the API warn that payloads go to Temporal in clear. Outside dev
and test neither may run at all (infra/secure_config.py).
"""

from __future__ import annotations

import base64
import binascii
import copy
import os
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

if TYPE_CHECKING:
    from infra.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
WORKFLOW_ID_METADATA = "encryption-workflow-id"
KEY_BYTES = 32
NONCE_BYTES = 12
#: Associated data of a bound payload: this prefix, the key id, NUL, the workflow id.
BOUND_AAD_PREFIX = b"priorauth-codec/v2\x00"
#: The CODEC_KEYS value that chooses no encryption (any case, surrounding spaces allowed).
NO_ENCRYPTION = "none"


class CodecError(ValueError):
    """A payload cannot be decrypted, or the key configuration is unusable."""


class UnknownKeyError(CodecError):
    """The payload was encrypted with a key id this process does not hold."""


class PlaintextPayloadError(CodecError):
    """A payload that is not encrypted, where keys are configured."""


class WrongWorkflowError(CodecError):
    """A payload bound to another workflow than the one it is being read for."""


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
    if not key_id or any(c in key_id for c in ":, \t\n\x00"):
        raise CodecError(f"key id {key_id!r} must be non-empty, without ':', ',' or spaces")
    if len(key) != KEY_BYTES:
        raise CodecError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256), got {len(key)}")


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """AES-256-GCM over whole payloads; the key id (and the workflow id) travel in the metadata.

    ``with_context`` (called by the SDK) returns a copy bound to the context's
    workflow: it encrypts bound payloads and refuses payloads bound to another.
    """

    def __init__(
        self, keys: Mapping[str, bytes], active_key_id: str, *, allow_plaintext: bool = False
    ) -> None:
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
        self.allow_plaintext = allow_plaintext
        self.workflow_id: str | None = None

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id this codec can decrypt (the active one first)."""
        others = (k for k in self._ciphers if k != self.active_key_id)
        return (self.active_key_id, *others)

    def with_context(self, context: SerializationContext) -> EncryptionCodec:
        """This codec bound to the workflow the SDK is encoding or decoding for."""
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id or None
        if workflow_id == self.workflow_id:
            return self
        bound = copy.copy(self)
        bound.workflow_id = workflow_id
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        """The payload, serialized whole and encrypted under the active key (and bound to
        this codec's workflow, when it has one)."""
        key_id = self.active_key_id
        metadata = {"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()}
        if self.workflow_id:
            metadata[WORKFLOW_ID_METADATA] = self.workflow_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(
            nonce, payload.SerializeToString(), _associated_data(metadata)
        )
        return Payload(metadata=metadata, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload.

        Refused (:class:`CodecError`): a payload that is not encrypted (unless
        ``allow_plaintext``), one under a key id this codec does not hold, one bound to
        another workflow than this codec's, and any that fails authentication.
        """
        metadata = payload.metadata
        if metadata.get("encoding") != ENCODING:
            if self.allow_plaintext:
                return payload
            raise PlaintextPayloadError(
                "payload is not encrypted, and CODEC_KEYS is set: refused "
                "(CODEC_ALLOW_PLAINTEXT=true reads histories from before encryption)"
            )
        raw_id = metadata.get(KEY_ID_METADATA)
        if raw_id is None:
            raise CodecError(f"encrypted payload has no {KEY_ID_METADATA!r} metadata")
        key_id = raw_id.decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"payload encrypted with key id {key_id!r}, which is not in CODEC_KEYS; "
                "add that key back to decrypt it"
            )
        bound_to = metadata.get(WORKFLOW_ID_METADATA)
        if bound_to is not None and self.workflow_id and bound_to != self.workflow_id.encode():
            raise WrongWorkflowError(
                f"payload (key {key_id!r}) belongs to workflow "
                f"{bound_to.decode(errors='replace')!r}, not {self.workflow_id!r}: refused"
            )
        data = payload.data
        if len(data) < NONCE_BYTES + 16:
            raise CodecError(f"encrypted payload (key {key_id!r}) is truncated")
        try:
            plain = cipher.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], _associated_data(metadata)
            )
            return Payload.FromString(plain)
        except self._invalid_tag:
            raise CodecError(
                f"encrypted payload (key {key_id!r}) failed authentication: "
                "tampered with, or the key under that id changed"
            ) from None
        except DecodeError:
            raise CodecError(f"decrypted payload (key {key_id!r}) is not a Payload") from None


def _associated_data(metadata: Mapping[str, bytes]) -> bytes:
    """The key id alone (payloads from before workflow binding), or prefix, key id, NUL,
    workflow id. The prefix and the NUL (barred from key ids) keep the two apart."""
    key_id = metadata[KEY_ID_METADATA]
    workflow_id = metadata.get(WORKFLOW_ID_METADATA)
    if workflow_id is None:
        return key_id
    return BOUND_AAD_PREFIX + key_id + b"\x00" + workflow_id


def codec_from_settings(settings: Settings) -> EncryptionCodec | None:
    """The codec for ``settings.codec_keys`` (first key active); None when it is empty or none."""
    keys, first = parse_keys(settings.codec_keys)
    if first is None:
        return None
    return EncryptionCodec(keys, first, allow_plaintext=settings.codec_allow_plaintext)
