"""The dev stack's token files (like its key file) are mode 0600 from their creation on."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from commands import dev
from commands.dev import _dev_token, _dev_tokens
from infra.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    old = os.umask(0)
    yield
    os.umask(old)


def test_the_dev_token_file_is_0600_at_creation_before_anything_is_written(
    tmp_path, monkeypatch, permissive_umask
):
    seen: list[tuple[int, int]] = []
    real_fdopen = os.fdopen

    def spy(fd, *args, **kwargs):  # the moment the file exists, before the token is in it
        info = os.fstat(fd)
        seen.append((stat.S_IMODE(info.st_mode), info.st_size))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(dev.os, "fdopen", spy)

    token = _dev_token(Settings(data_dir=tmp_path))

    assert seen == [(0o600, 0)]
    assert _mode(tmp_path / "dev-token") == 0o600
    assert len(token) >= 32
    assert _dev_token(Settings(data_dir=tmp_path)) == token  # kept for the data dir


def test_an_existing_token_file_others_could_read_is_narrowed(tmp_path):
    path = tmp_path / "dev-token"
    path.write_text("old-token\n")
    path.chmod(0o644)

    assert _dev_token(Settings(data_dir=tmp_path)) == "old-token"
    assert _mode(path) == 0o600


def test_a_secret_file_is_never_written_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("not a token")
    (tmp_path / "dev-token").symlink_to(target)

    with pytest.raises(RuntimeError, match="symlink"):
        _dev_token(Settings(data_dir=tmp_path))
    assert target.read_text() == "not a token"


def test_the_per_person_token_file_is_0600_and_refuses_a_symlink(tmp_path, permissive_umask):
    settings = Settings(data_dir=tmp_path)
    path = _dev_tokens(settings, _dev_token(settings))
    assert _mode(path) == 0o600

    target = tmp_path / "elsewhere.json"
    target.write_text("[]")
    path.unlink()
    path.symlink_to(target)
    with pytest.raises(RuntimeError, match="symlink"):
        _dev_tokens(settings, _dev_token(settings))
    assert target.read_text() == "[]"
