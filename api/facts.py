"""The ``facts`` of ``POST /cases/{id}/info`` and ``/renewals``, as a model the schema can state.

Facts change a case's request (domain/facts.py): keys are the request's fields,
either dotted (``"diagnosis.mrd_percent": 0.4``) or a section with some of its
fields (``"diagnosis": {"mrd_percent": 0.4}``); the merged request must still
be a valid request. A free ``dict`` would let the OpenAPI document call any
object valid while the case refuses most of them, so the API reads facts
through ``RequestFacts``, built from ``PARequest`` itself:

- one optional property per top-level field, valued as that field (a section
  takes any subset of its fields, each valued as in the request);
- one optional property per dotted field of a section, valued as that field;
- nothing else (unknown keys are refused, naming them); in particular not the
  fields facts may not change (``domain.facts.FIXED_FIELDS``: the case's ids and
  receipt, line of business, urgency, drug, and the member's identity).

Each value is checked exactly as the request checks it, so a body that passes
here also merges into a valid request (the case checks again anyway).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.fields import FieldInfo

from domain.facts import FIXED_FIELDS
from domain.request import PARequest
from domain.strict import standard_bounds


def _same_checks(info: FieldInfo) -> Any:
    """``info``'s type with all of its constraints, for a field that may be left out."""
    return Annotated[info.annotation, info]


def _fixed(path: str) -> bool:
    """A field facts may not change (domain.facts.FIXED_FIELDS): not in the schema."""
    return path in FIXED_FIELDS


def _section(name: str, model: type[BaseModel]) -> type[BaseModel]:
    """``model``'s changeable fields, every one optional: a section of the request, in part."""
    fields: dict[str, Any] = {
        sub: (_same_checks(info), None)
        for sub, info in model.model_fields.items()
        if not _fixed(f"{name}.{sub}")
    }
    return create_model(
        f"{model.__name__}Facts",
        __config__=ConfigDict(**{**model.model_config, "extra": "forbid"}),
        __doc__=f"Some fields of the request's {model.__name__.lower()} section.",
        **fields,
    )


def _section_model(info: FieldInfo) -> type[BaseModel] | None:
    """The model of a section field (``diagnosis``), None for a plain field."""
    model = info.annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _request_facts_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, info in PARequest.model_fields.items():
        if _fixed(name):
            continue
        model = _section_model(info)
        if model is not None:
            fields[name] = (_section(name, model), None)
            for sub, sub_info in model.model_fields.items():
                alias = f"{name}.{sub}"
                if not _fixed(alias):
                    fields[f"{name}__{sub}"] = (_same_checks(sub_info), Field(None, alias=alias))
        else:
            fields[name] = (_same_checks(info), None)
    return fields


_FACTS_CONFIG = ConfigDict(**{**PARequest.model_config, "extra": "forbid"})
_FIELDS = _request_facts_fields()

RequestFacts: type[BaseModel] = create_model(
    "RequestFacts",
    __config__=_FACTS_CONFIG,
    __doc__=(
        "Changed facts of the request: dotted fields (`diagnosis.mrd_percent`) or sections "
        "with some of their fields (`diagnosis: {mrd_percent}`), each valued as in the request."
    ),
    **_FIELDS,
)


def _at_least_one(schema: dict[str, Any]) -> None:
    standard_bounds(schema)
    schema["minProperties"] = 1


class InfoFacts(RequestFacts):
    """The facts a pended case is waiting for: at least one."""

    model_config = ConfigDict(json_schema_extra=_at_least_one)

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise ValueError("name at least one fact")
        return data
