"""Adding facts to a request: ``provide_info`` answers and renewal changes.

POLICY.md Section IV: a renewal is decided on the case's facts with the
renewal's changed facts merged over them. Facts come either as dotted paths
(``{"diagnosis.mrd_percent": 0.4}``) or as a nested partial request
(``{"diagnosis": {"mrd_percent": 0.4}}``); both may be mixed. The result is
validated again, so a bad value raises ``pydantic.ValidationError``;
:func:`fact_errors` says what is wrong with it without repeating the value.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from domain.request import PARequest


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if "." in key:
            _set_path(target, key, value)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def merge_facts(request: PARequest, facts: dict[str, Any]) -> PARequest:
    """Return ``request`` with ``facts`` applied (dotted paths or nested dicts), validated."""
    data = request.model_dump(mode="json")
    _deep_merge(data, facts)
    return PARequest.model_validate(data)


#: What a field name looks like; a key of any other shape is the caller's text, not a name.
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
UNNAMED = "(unknown field)"


def shown_name(part: object) -> str:
    """A path segment as an error may show it: a field-shaped name, else ``(unknown field)``
    (an unknown key is the caller's input, and may hold anything)."""
    text = str(part)
    return text if FIELD_NAME.fullmatch(text) else UNNAMED


def fact_errors(exc: ValidationError) -> list[str]:
    """``diagnosis.mrd_percent: Input should be a valid number, …`` per error: the dotted
    path and pydantic's message, never the value given (it may be PHI)."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        path = ".".join(shown_name(part) for part in err["loc"]) or "facts"
        out.append(f"{path}: {err['msg']}")
    return out
