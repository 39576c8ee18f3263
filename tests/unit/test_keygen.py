"""`priorauth keygen`: fresh CODEC_KEYS entries, and rotation keeping the old keys."""

from __future__ import annotations

import pytest

from cli import main
from commands.keys import new_codec_keys
from infra.codec import CodecError, EncryptionCodec, format_key, generate_key, parse_keys
from infra.settings import get_settings


def test_keygen_prints_one_usable_entry(capsys) -> None:
    assert main(["keygen", "--id", "k2026"]) == 0

    out = capsys.readouterr().out.strip()
    keys, first = parse_keys(out)
    assert first == "k2026"
    assert len(keys["k2026"]) == 32
    EncryptionCodec(keys, first)


def test_two_runs_give_different_keys_and_ids(capsys) -> None:
    main(["keygen"])
    main(["keygen"])

    first, second = (parse_keys(line)[0] for line in capsys.readouterr().out.split())
    assert first.keys() != second.keys()
    assert list(first.values()) != list(second.values())


def test_rotation_puts_a_new_key_first_and_keeps_the_current_ones() -> None:
    old_a, old_b = generate_key(), generate_key()
    current = f"{format_key('a', old_a)},{format_key('b', old_b)}"

    keys, first = parse_keys(new_codec_keys(current, "c"))

    assert first == "c"
    assert list(keys) == ["c", "a", "b"]
    assert keys["a"] == old_a and keys["b"] == old_b


def test_rotate_reads_the_current_codec_keys_from_settings(monkeypatch, capsys) -> None:
    old = format_key("old", generate_key())
    monkeypatch.setenv("CODEC_KEYS", old)
    get_settings.cache_clear()
    try:
        assert main(["keygen", "--rotate", "--id", "new"]) == 0
    finally:
        get_settings.cache_clear()

    assert capsys.readouterr().out.strip().endswith("," + old)


def test_reusing_a_key_id_is_refused() -> None:
    with pytest.raises(CodecError, match="already in CODEC_KEYS"):
        new_codec_keys(format_key("a", generate_key()), "a")
