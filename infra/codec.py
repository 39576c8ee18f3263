"""Payload encryption for Temporal (placeholder until issue #7 lands: no codec)."""

from __future__ import annotations

from temporalio.converter import PayloadCodec

from infra.settings import Settings


def codec_from_settings(settings: Settings) -> PayloadCodec | None:
    return None
