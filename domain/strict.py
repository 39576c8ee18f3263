"""Strict field types of the public bodies (CONTRACT.md, "Strict types").

A public body is read strictly: a date is a ``YYYY-MM-DD`` string, a
timestamp an ISO 8601 string with a zone, a number a JSON number, a boolean
``true``/``false``; nothing is coerced (``"date": 0``, ``"units": "35"``,
``"b_cell_precursor": "yes"`` are refused). Identifiers are 1–64 characters
of ``A–Z a–z 0–9 . _ : -``.

The same models are validated in three ways: by FastAPI from decoded JSON
(pydantic's *python* mode), by the Temporal data converter from JSON text
(*JSON* mode), and from Python values built by our own code. pydantic's
``strict=True`` differs between those modes (python mode refuses the ISO
string of a date, JSON mode takes it), so these types state the rule once and
hold in every mode: a date field takes a ``date`` object or a ``YYYY-MM-DD``
string, never a number; a number field takes a number, never a string or a
boolean. Error messages never repeat the input (it may be PHI).

**Recorded data.** What a case already accepted — its workflow input and
state, the updates and signals in its history, the facts it merged — was
accepted under the rules of its day (lax types, identifiers of up to 253
printable characters, any drug code). Validated with the context
``RECORDED`` (the data converter in ``infra.temporal`` and the workflow's own
re-reading of facts do so), these types and the rules built on them
(``domain.request``: the covered drug) read such data as it was written, so a
running case still decodes and replays. Everything else is strict.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: RFC 3339 (ISO 8601 profile): date, ``T``, time with seconds, optional fraction, a zone.
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"

#: Validation context for data a case already accepted (see the module docstring).
RECORDED: dict[str, Any] = {"recorded": True}

_DATE = re.compile(DATE_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def recorded(info: ValidationInfo) -> bool:
    """True when validating data a case already accepted (context ``RECORDED``)."""
    context = info.context
    return isinstance(context, dict) and bool(context.get("recorded"))


def _iso_date(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if (isinstance(value, str) and _DATE.fullmatch(value)) or recorded(info):
        return value  # pydantic's date parser then checks that the day exists
    raise PydanticCustomError("date_type", "Input should be a date written YYYY-MM-DD")


def _zoned_timestamp(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, datetime) or recorded(info):
        return value
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
        return value
    raise PydanticCustomError(
        "datetime_type",
        "Input should be an ISO 8601 timestamp with a time zone (2026-12-01T09:00:00Z)",
    )


def _json_integer(value: Any, info: ValidationInfo) -> Any:
    if recorded(info):
        return value
    # JSON has one number type: 35 and 35.0 are the same integer (JSON Schema "integer").
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be an integer (a JSON number)")
    if isinstance(value, float):
        if not value.is_integer():
            raise PydanticCustomError("int_from_float", "Input should be a whole number")
        return int(value)
    return value


def _json_number(value: Any, info: ValidationInfo) -> Any:
    if recorded(info) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("float_type", "Input should be a number (a JSON number)")


def _json_bool(value: Any, info: ValidationInfo) -> Any:
    if recorded(info) or isinstance(value, bool):
        return value
    raise PydanticCustomError("bool_type", "Input should be true or false")


def _identifier(value: str, info: ValidationInfo) -> str:
    if recorded(info) or _IDENTIFIER.fullmatch(value):
        return value
    raise PydanticCustomError(
        "identifier",
        "Input should be 1 to 64 characters of A-Z a-z 0-9 . _ : -",
    )


#: JSON Schema's names of pydantic's bounds. pydantic (2.14) writes a bound on a validated
#: type inside a union (``JsonNumber | None = Field(gt=0)``) under its own name (``gt``),
#: which JSON Schema does not know: the bound would be lost to every reader of the schema.
_BOUND_KEYWORDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
    "multiple_of": "multipleOf",
}


def standard_bounds(schema: dict[str, Any]) -> None:
    """A model's JSON schema with pydantic's bound names turned into JSON Schema's, in place.

    For ``json_schema_extra`` of the public models, so that ``priorauth schema`` and the
    OpenAPI document state every bound the model checks.
    """
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") in ("number", "integer"):
                for name, keyword in _BOUND_KEYWORDS.items():
                    if name in node:
                        node.setdefault(keyword, node.pop(name))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


#: The configuration of the public models: unknown fields refused, bounds stated.
STRICT_MODEL = ConfigDict(extra="forbid", json_schema_extra=standard_bounds)

#: A calendar day: ``YYYY-MM-DD`` (or a ``date`` built in code).
IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
#: A point in time with its zone: ISO 8601 / RFC 3339 (or an aware ``datetime`` built in code).
ZonedTimestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_zoned_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}),
]
#: A JSON number with no fractional part; never a string or a boolean.
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
#: A JSON number; never a string or a boolean.
JsonNumber = Annotated[float, BeforeValidator(_json_number)]
#: ``true`` or ``false``; never ``"yes"``, ``1`` or ``"true"``.
JsonBool = Annotated[bool, BeforeValidator(_json_bool)]
#: ``request_id``, ``claim_id``, ``event_id``: they end up in URLs, Temporal ids and keys.
Identifier = Annotated[
    str,
    Field(min_length=1),
    AfterValidator(_identifier),
    WithJsonSchema(
        {"type": "string", "pattern": IDENTIFIER_PATTERN, "minLength": 1, "maxLength": 64}
    ),
]

__all__ = [
    "DATE_PATTERN",
    "IDENTIFIER_PATTERN",
    "RECORDED",
    "STRICT_MODEL",
    "TIMESTAMP_PATTERN",
    "Identifier",
    "IsoDate",
    "JsonBool",
    "JsonInt",
    "JsonNumber",
    "ZonedTimestamp",
    "recorded",
    "standard_bounds",
]
