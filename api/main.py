"""ASGI entry point for production servers: ``uvicorn api.main:app``.

Bad or insecure settings (infra/secure_config.py) stop the import with one line
on stderr and exit status 2, before uvicorn serves anything.
"""

from __future__ import annotations

from api.app import create_app
from infra.logging import configure_logging
from infra.secure_config import exit_if_insecure, load_settings

PROGRAM = "priorauth api"

_settings = load_settings(PROGRAM)
exit_if_insecure(PROGRAM, _settings)
configure_logging(_settings.log_level, _settings.log_format)
try:
    app = create_app(_settings)
except ValueError as exc:  # a bad identity setting: one clear line, no traceback
    raise SystemExit(f"priorauth API cannot start: {exc}") from None
