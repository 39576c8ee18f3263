"""`priorauth dev` encrypts by default; running in clear is chosen (--no-encryption,
CODEC_KEYS=none) and means the same wherever CODEC_KEYS is read."""

from __future__ import annotations

import os
import stat

import pytest

from cli import main
from commands.dev import dev_encryption
from infra.codec import (
    CodecError,
    EncryptionCodec,
    codec_from_settings,
    format_key,
    generate_key,
    parse_keys,
)
from infra.settings import Settings, get_settings


def test_a_data_dir_gets_its_own_key_private_from_the_start_and_kept(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "a", codec_keys="")
    settings.data_dir.mkdir()
    old_umask = os.umask(0)  # the file's own mode must not depend on the umask
    try:
        first = dev_encryption(settings)
    finally:
        os.umask(old_umask)

    path = settings.data_dir / "codec-keys"
    assert first.on
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_encryption(settings) == first  # restarted: the same key, histories still decode
    keys, _ = parse_keys(first.codec_keys)
    assert isinstance(codec_from_settings(Settings(codec_keys=first.codec_keys)), EncryptionCodec)
    other = Settings(data_dir=tmp_path / "b", codec_keys="")
    other.data_dir.mkdir()
    assert parse_keys(dev_encryption(other).codec_keys)[0] != keys
    assert [p.name for p in settings.data_dir.iterdir()] == ["codec-keys"]  # no temp file left


def test_codec_keys_given_are_used_and_no_key_is_made(tmp_path) -> None:
    given = format_key("ops1", generate_key())

    encryption = dev_encryption(Settings(data_dir=tmp_path, codec_keys=given))

    assert (encryption.on, encryption.codec_keys) == (True, given)
    assert not (tmp_path / "codec-keys").exists()


@pytest.mark.parametrize(
    ("codec_keys", "flag", "why"),
    [("none", False, "CODEC_KEYS=none"), (" NONE ", False, "CODEC_KEYS=none"),
     ("", True, "--no-encryption"), (format_key("k", b"k" * 32), True, "--no-encryption")],
)  # fmt: skip
def test_running_in_clear_is_only_ever_chosen(tmp_path, codec_keys, flag, why) -> None:
    encryption = dev_encryption(
        Settings(data_dir=tmp_path, codec_keys=codec_keys), no_encryption=flag
    )

    assert (encryption.on, encryption.why) == (False, why)
    assert codec_from_settings(Settings(codec_keys=encryption.codec_keys)) is None
    assert not (tmp_path / "codec-keys").exists()


def test_none_means_no_keys_wherever_codec_keys_is_read(monkeypatch, capsys) -> None:
    assert parse_keys("none") == ({}, None)
    assert codec_from_settings(Settings(codec_keys="None")) is None
    monkeypatch.setenv("CODEC_KEYS", "none")
    get_settings.cache_clear()
    try:
        assert main(["keygen", "--rotate", "--id", "first"]) == 0
    finally:
        get_settings.cache_clear()
    assert list(parse_keys(capsys.readouterr().out.strip())[0]) == ["first"]


@pytest.mark.parametrize("content", ["", "\n", "garbage"])
def test_an_unusable_key_file_is_refused_never_taken_for_no_encryption(tmp_path, content) -> None:
    (tmp_path / "codec-keys").write_text(content)

    with pytest.raises(CodecError, match="codec-keys"):
        dev_encryption(Settings(data_dir=tmp_path, codec_keys=""))
