"""Adding facts to a request: ``provide_info`` answers and renewal changes.

POLICY.md Section IV: a renewal is decided on the case's facts with the
renewal's changed facts merged over them. Facts come either as dotted paths
(``{"diagnosis.mrd_percent": 0.4}``) or as a nested partial request
(``{"diagnosis": {"mrd_percent": 0.4}}``); both may be mixed. The result is
validated again, so a bad value raises ``pydantic.ValidationError``.
"""

from __future__ import annotations

from typing import Any

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
