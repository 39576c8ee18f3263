"""EncryptionCodec: AES-256-GCM payloads with a key id, rotation and passthrough."""

from __future__ import annotations

import base64
import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.request import Member
from infra.codec import (
    ENCODING,
    KEY_ID_METADATA,
    CodecError,
    EncryptionCodec,
    UnknownKeyError,
    codec_from_settings,
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


async def test_unknown_key_id_is_a_clear_error() -> None:
    [encrypted] = await EncryptionCodec({"retired": OLD}, "retired").encode([_json_payload("1")])

    with pytest.raises(UnknownKeyError, match=r"'retired'.*not in CODEC_KEYS"):
        await EncryptionCodec({"new": NEW}, "new").decode([encrypted])


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


async def test_unencrypted_payloads_pass_through_unchanged() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    plain = [_json_payload('"old history"'), Payload(metadata={"encoding": b"binary/null"})]

    assert await codec.decode(plain) == plain


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
