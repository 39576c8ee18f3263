"""ASGI entry point for production servers: ``uvicorn api.main:app``."""

from __future__ import annotations

from api.app import create_app
from infra.logging import configure_logging
from infra.settings import get_settings

_settings = get_settings()
configure_logging(_settings.log_level, _settings.log_format)
try:
    app = create_app(_settings)
except ValueError as exc:  # a bad identity setting: one clear line, no traceback
    raise SystemExit(f"priorauth API cannot start: {exc}") from None
