"""Adding facts to a request: ``provide_info`` answers and renewal changes.

POLICY.md Section IV: a renewal is decided on the case's facts with the
renewal's changed facts merged over them. Facts come either as dotted paths
(``{"diagnosis.mrd_percent": 0.4}``) or as a nested partial request
(``{"diagnosis": {"mrd_percent": 0.4}}``); both may be mixed. The result is
validated again, so a bad value raises ``pydantic.ValidationError``;
:func:`fact_problems` says what is wrong with the facts, field by field, without
repeating the value.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from domain.request import PARequest
from domain.strict import RECORDED

#: What facts may not change: how the case was received and whom and which drug it is
#: for. Facts describe the member's disease, therapy and clinical state (Sections III,
#: IV); the case's identity, its line of business (its clocks and appeal rights), its
#: drug (its policy, Section VI) and the member's identity stay as the request gave them.
FIXED_FIELDS: tuple[str, ...] = (
    "request_id",
    "received_at",
    "urgency",
    "line_of_business",
    "member.member_id",
    "member.first_name",
    "member.last_name",
    "service.hcpcs",
    "service.ndc",
)


def fixed_fact_problems(facts: dict[str, Any]) -> list[dict[str, str]]:
    """The facts that name a field of :data:`FIXED_FIELDS` (dotted or inside a section),
    as ``{field, message}``; never the value."""
    problems: list[dict[str, str]] = []
    for path in fact_paths(facts):
        dotted = ".".join(path)
        if any(dotted == fixed or dotted.startswith(f"{fixed}.") for fixed in FIXED_FIELDS):
            problems.append(
                {"field": f"facts.{dotted}", "message": "is fixed by the request; not a fact"}
            )
    return problems


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


def merge_facts(request: PARequest, facts: dict[str, Any], *, recorded: bool = False) -> PARequest:
    """Return ``request`` with ``facts`` applied (dotted paths or nested dicts), validated.

    Facts are read strictly (CONTRACT.md, "Strict types"); ``recorded=True`` re-reads
    facts a case already accepted, under the rules they were accepted by
    (``domain.strict.RECORDED``), so a running case replays as it ran.
    """
    data = request.model_dump(mode="json")
    _deep_merge(data, facts)
    return PARequest.model_validate(data, context=RECORDED if recorded else None)


#: What a field name looks like; a key of any other shape is the caller's text, not a name.
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
UNNAMED = "(unknown field)"


def shown_name(part: object) -> str:
    """A path segment as an error may show it: a field-shaped name, else ``(unknown field)``
    (an unknown key is the caller's input, and may hold anything)."""
    text = str(part)
    return text if FIELD_NAME.fullmatch(text) else UNNAMED


def fact_paths(facts: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The request paths ``facts`` set: ``{"a.b": 1, "c": {"d": 2}}`` -> (a, b), (c, d)."""
    paths: list[tuple[str, ...]] = []
    for key, value in facts.items():
        path = (*prefix, *key.split("."))
        if isinstance(value, dict) and value and "." not in key:
            paths.extend(fact_paths(value, path))
        else:
            paths.append(path)
    return paths


def fact_problems(exc: ValidationError, facts: dict[str, Any]) -> list[dict[str, str]]:
    """A merge's errors about ``facts`` as ``{"field": "facts.<dotted path>", "message"}``.

    Errors in fields the facts do not touch are left out (what the case already holds
    was accepted by its rules). Neither a value nor a key that is not field-shaped is
    echoed (``shown_name``): both are the caller's input and may hold PHI.
    """
    touched = fact_paths(facts)
    problems = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = tuple(str(part) for part in error["loc"])
        if not any(loc[: len(t)] == t or t[: len(loc)] == loc for t in touched):
            continue
        path = ""
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                name = shown_name(part)
                path += f".{name}" if path else name
        problems.append({"field": f"facts.{path}" if path else "facts", "message": error["msg"]})
    return problems


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (``Diagnosis`` for ``Diagnosis | None``), None for a value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def fact_path_problem(path: str) -> str | None:
    """Why ``path`` names no fact a requester can send (a reviewer's pend names facts), or
    None: a dotted path to one field of the request (CONTRACT.md), not a section and not
    one of :data:`FIXED_FIELDS`. The message never repeats the path (it may be anything)."""
    model: type[BaseModel] | None = PARequest
    parts = path.split(".")
    for i, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            return "is not a field of the request (CONTRACT.md): use a dotted path"
        model = _model_of(model.model_fields[part].annotation)
        if model is not None and i == len(parts) - 1:
            return "names a section of the request: name one of its fields"
    if any(path == fixed or path.startswith(f"{fixed}.") for fixed in FIXED_FIELDS):
        return "is fixed by the request; not a fact"
    return None
