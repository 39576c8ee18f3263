"""EncryptionCodec: AES-256-GCM payloads with a key id, workflow binding, rotation, and no
plain payloads under configured keys."""

from __future__ import annotations

import base64
import dataclasses
from datetime import date

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    WorkflowSerializationContext,
)

from domain.request import Member
from infra.codec import (
    ENCODING,
    KEY_ID_METADATA,
    WORKFLOW_ID_METADATA,
    CodecError,
    EncryptionCodec,
    PlaintextPayloadError,
    UnknownKeyError,
    WrongWorkflowError,
    codec_from_settings,
    encryption_off,
    format_key,
    generate_key,
    parse_keys,
)
from infra.settings import Settings

OLD = generate_key()
NEW = generate_key()
MEMBER = Member(
    member_id="M-77812345", first_name="Josephine", last_name="Quillfeather",
    date_of_birth=date(1961, 4, 23),
)  # fmt: skip


def _json_payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_round_trip_restores_metadata_and_data() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    original = _json_payload('{"first_name":"Josephine"}')

    [encrypted] = await codec.encode([original])
    [decrypted] = await codec.decode([encrypted])

    assert decrypted == original
    assert dict(encrypted.metadata) == {"encoding": ENCODING, KEY_ID_METADATA: b"k1"}


async def test_ciphertext_holds_no_plaintext_and_nonces_differ() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    original = _json_payload('{"first_name":"Josephine","encoding":"json/plain"}')

    first, second = await codec.encode([original, original])

    for encrypted in (first, second):
        assert b"Josephine" not in encrypted.SerializeToString()
        assert b"json/plain" not in encrypted.SerializeToString()
    assert first.data != second.data


@given(st.binary(max_size=2048), st.dictionaries(st.text(max_size=20), st.binary(max_size=40)))
async def test_any_payload_round_trips(data: bytes, metadata: dict[str, bytes]) -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    original = Payload(metadata=metadata, data=data)

    assert await codec.decode(await codec.encode([original])) == [original]


async def test_pydantic_model_round_trips_through_a_converter_with_the_codec() -> None:
    converter = dataclasses.replace(
        pydantic_data_converter, payload_codec=EncryptionCodec({"k1": OLD}, "k1")
    )

    [payload] = await converter.encode([MEMBER])

    raw = payload.SerializeToString()
    for phi in ("M-77812345", "Josephine", "Quillfeather", "1961-04-23"):
        assert phi.encode() not in raw
    assert await converter.decode([payload], [Member]) == [MEMBER]


async def test_data_encrypted_with_an_old_key_decodes_after_rotation() -> None:
    before = EncryptionCodec({"old": OLD}, "old")
    [encrypted_old] = await before.encode([_json_payload('"kept"')])

    after = EncryptionCodec({"new": NEW, "old": OLD}, "new")
    [encrypted_new] = await after.encode([_json_payload('"fresh"')])

    assert encrypted_new.metadata[KEY_ID_METADATA] == b"new"
    assert await after.decode([encrypted_old, encrypted_new]) == [
        _json_payload('"kept"'),
        _json_payload('"fresh"'),
    ]


async def test_unknown_key_id_is_a_clear_error_that_lists_no_known_key_ids() -> None:
    [encrypted] = await EncryptionCodec({"retired": OLD}, "retired").encode([_json_payload("1")])

    with pytest.raises(UnknownKeyError, match=r"'retired'.*not in CODEC_KEYS") as info:
        await EncryptionCodec({"k-secret-name": NEW, "k-other": OLD}, "k-secret-name").decode(
            [encrypted]
        )
    assert "k-secret-name" not in str(info.value) and "k-other" not in str(info.value)


async def test_same_key_id_with_a_different_key_fails_authentication() -> None:
    [encrypted] = await EncryptionCodec({"k1": OLD}, "k1").encode([_json_payload("1")])

    with pytest.raises(CodecError, match="failed authentication"):
        await EncryptionCodec({"k1": NEW}, "k1").decode([encrypted])


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
async def test_tampered_ciphertext_fails(position: int) -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    [encrypted] = await codec.encode([_json_payload('{"member_id":"M-77812345"}')])
    data = bytearray(encrypted.data)
    data[position] ^= 0x01
    tampered = Payload(metadata=encrypted.metadata, data=bytes(data))

    with pytest.raises(CodecError, match="failed authentication"):
        await codec.decode([tampered])


async def test_relabelled_key_id_fails_authentication() -> None:
    codec = EncryptionCodec({"a": OLD, "b": OLD}, "a")
    [encrypted] = await codec.encode([_json_payload("1")])
    relabelled = Payload(
        metadata={"encoding": ENCODING, KEY_ID_METADATA: b"b"}, data=encrypted.data
    )

    with pytest.raises(CodecError, match="failed authentication"):
        await codec.decode([relabelled])


async def test_truncated_ciphertext_fails() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    [encrypted] = await codec.encode([_json_payload("1")])
    truncated = Payload(metadata=encrypted.metadata, data=encrypted.data[:20])

    with pytest.raises(CodecError, match="truncated"):
        await codec.decode([truncated])


@pytest.mark.parametrize(
    "plain",
    [_json_payload('"forged"'), Payload(metadata={"encoding": b"binary/null"}), Payload()],
    ids=["json", "null", "empty"],
)
async def test_decode_refuses_unencrypted_payloads_under_configured_keys(plain: Payload) -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")

    with pytest.raises(PlaintextPayloadError, match="not encrypted"):
        await codec.decode([plain])
    with pytest.raises(PlaintextPayloadError):
        await codec.with_context(WorkflowSerializationContext("default", "pa-A")).decode([plain])


async def test_plain_payloads_are_read_only_when_explicitly_allowed() -> None:
    codec = codec_from_settings(
        Settings(codec_keys=format_key("k1", OLD), codec_allow_plaintext=True)
    )
    plain = [_json_payload('"old history"'), Payload(metadata={"encoding": b"binary/null"})]

    assert codec is not None
    assert await codec.decode(plain) == plain
    assert codec_from_settings(Settings(codec_keys=format_key("k1", OLD))).allow_plaintext is False


def _context(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


async def test_a_payload_is_bound_to_the_workflow_it_was_encoded_for() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    original = _json_payload('{"member_id":"M-77812345"}')

    [sealed] = await codec.with_context(_context("pa-REQ-A")).encode([original])

    assert sealed.metadata[WORKFLOW_ID_METADATA] == b"pa-REQ-A"
    assert await codec.with_context(_context("pa-REQ-A")).decode([sealed]) == [original]
    # The codec server has no workflow context: it reads the id the payload names.
    assert await codec.decode([sealed]) == [original]


async def test_a_ciphertext_bound_to_one_workflow_does_not_decrypt_as_anothers() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    [sealed] = await codec.with_context(_context("pa-REQ-A")).encode([_json_payload('"A"')])
    relabelled = Payload(data=sealed.data)
    relabelled.metadata.update(sealed.metadata)
    relabelled.metadata[WORKFLOW_ID_METADATA] = b"pa-REQ-B"
    stripped = Payload(
        data=sealed.data,
        metadata={k: v for k, v in sealed.metadata.items() if k != WORKFLOW_ID_METADATA},
    )

    with pytest.raises(WrongWorkflowError, match="'pa-REQ-A', not 'pa-REQ-B'"):
        await codec.with_context(_context("pa-REQ-B")).decode([sealed])
    for moved in (relabelled, stripped):  # editing or dropping the binding breaks the tag
        with pytest.raises(CodecError, match="failed authentication"):
            await codec.with_context(_context("pa-REQ-B")).decode([moved])
        with pytest.raises(CodecError, match="failed authentication"):
            await codec.decode([moved])


async def test_activity_payloads_are_bound_to_their_workflow() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    activity = ActivitySerializationContext(
        namespace="default",
        activity_id="1",
        activity_type="send_notification",
        activity_task_queue="q",
        workflow_id="pa-REQ-A",
        workflow_type="AuthorizationWorkflow",
        is_local=False,
    )

    [sealed] = await codec.with_context(activity).encode([_json_payload("1")])

    assert sealed.metadata[WORKFLOW_ID_METADATA] == b"pa-REQ-A"
    assert await codec.with_context(_context("pa-REQ-A")).decode([sealed]) == [_json_payload("1")]
    with pytest.raises(WrongWorkflowError):
        await codec.with_context(_context("pa-REQ-B")).decode([sealed])


async def test_the_sdk_hands_the_codec_the_workflow_id_through_the_data_converter() -> None:
    converter = DataConverter(payload_codec=EncryptionCodec({"k1": OLD}, "k1"))

    [sealed] = await converter.with_context(_context("pa-REQ-A")).encode(["hello"])

    assert sealed.metadata[WORKFLOW_ID_METADATA] == b"pa-REQ-A"
    with pytest.raises(WrongWorkflowError):
        await converter.with_context(_context("pa-REQ-B")).decode([sealed])


async def test_payloads_in_the_format_from_before_workflow_binding_still_decrypt() -> None:
    # Written as the codec did before: the key id alone is the associated data.
    original = _json_payload('"written last year"')
    nonce = b"\x01" * 12
    old_format = Payload(
        metadata={"encoding": ENCODING, KEY_ID_METADATA: b"k1"},
        data=nonce + AESGCM(OLD).encrypt(nonce, original.SerializeToString(), b"k1"),
    )
    codec = EncryptionCodec({"k1": OLD}, "k1")

    assert await codec.decode([old_format]) == [original]
    assert await codec.with_context(_context("pa-REQ-A")).decode([old_format]) == [original]


def test_codec_keys_none_chooses_no_encryption() -> None:
    assert encryption_off(" None ") and not encryption_off("")
    assert parse_keys("none") == ({}, None)
    assert codec_from_settings(Settings(codec_keys="none")) is None


def test_codec_from_settings_is_none_without_keys() -> None:
    assert codec_from_settings(Settings(codec_keys="")) is None
    assert codec_from_settings(Settings(codec_keys=" , ")) is None


async def test_codec_from_settings_encrypts_with_the_first_key_and_decrypts_with_all() -> None:
    spec = f"{format_key('k2', NEW)}, {format_key('k1', OLD)}"
    codec = codec_from_settings(Settings(codec_keys=spec))
    [by_old] = await EncryptionCodec({"k1": OLD}, "k1").encode([_json_payload("1")])

    assert codec is not None
    assert codec.active_key_id == "k2"
    assert codec.key_ids == ("k2", "k1")
    [encrypted] = await codec.encode([_json_payload("2")])
    assert encrypted.metadata[KEY_ID_METADATA] == b"k2"
    assert await codec.decode([by_old]) == [_json_payload("1")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nokeyhere", "not 'keyid:base64key'"),
        (":" + base64.b64encode(OLD).decode(), "not 'keyid:base64key'"),
        ("k1:not*base64", "'k1' is not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        (f"{format_key('k1', OLD)},{format_key('k1', NEW)}", "'k1' twice"),
    ],
)
def test_bad_codec_keys_are_refused_without_echoing_key_material(spec: str, message: str) -> None:
    with pytest.raises(CodecError, match=message) as info:
        parse_keys(spec)
    assert base64.b64encode(OLD).decode() not in str(info.value)


def test_active_key_must_be_among_the_keys() -> None:
    with pytest.raises(CodecError, match="active key id 'k9'"):
        EncryptionCodec({"k1": OLD}, "k9")


def test_generated_keys_are_random_aes_256_keys() -> None:
    keys = {generate_key() for _ in range(20)}

    assert len(keys) == 20
    assert all(len(k) == 32 for k in keys)
