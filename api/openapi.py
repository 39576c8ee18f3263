"""The OpenAPI document, made exact (CONTRACT.md, Strict types; issue #12).

FastAPI derives the document from the routes and their pydantic models; this
module adds what it cannot see, so that a request the document calls valid is
never refused for its shape and one it calls invalid is never accepted:

- **storable strings**: api/limits.py refuses, in any body a route reads, a
  string or key holding NUL or an unpaired UTF-16 surrogate (neither can be
  stored or sent on). Every request-side string without a pattern, format or
  enum of its own says so with ``STORABLE_PATTERN`` (no NUL), and every
  free-keyed object with ``propertyNames``. Lone surrogates (``"\\ud800"``)
  are left to the API description: RFC 8259 (8.2) leaves such strings'
  meaning unpredictable and I-JSON (RFC 7493, 2.1) forbids them, and a
  surrogate range in a pattern does not compile in other tools' regex engines
  (Rust's ``regex``, under jsonschema-rs and schemathesis, has no surrogates);
- **case ids**: the path parameter ``case_id`` is ``pa-`` and a request id, with
  the request id's own pattern and length (api/deps.py answers 404 to anything
  else, as to any unknown case);
- **one error shape**: FastAPI documents its own ``HTTPValidationError`` for 422
  on every route with parameters; every 422 of ours is ``ErrorBody``
  (api/responses.py), and routes that cannot answer 422 (a path parameter is
  any string) do not list it;
- **links** (OpenAPI 3.1, 4.8.20): the ``case_id`` that ``POST /cases`` answers
  leads to every operation on that case, so clients and stateful testers
  (schemathesis) can follow a case's life. Only from there: schemathesis starts
  its sequences at operations with links out, and a case route started with a
  random id only finds no case.

The bearer scheme (``HTTPBearer``) comes from api/auth.py's dependency; the
codec routes, which check the caller themselves, name it (or the codec session
cookie, ``CodecSession``) in their own ``security``, and the cookie's scheme is
added here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from domain.case_id import CASE_PREFIX
from domain.request import PARequest

#: No NUL (api/limits.py); an escape, so the document stays printable ASCII.
STORABLE_PATTERN = r"^[^\u0000]*$"

#: ``POST /cases`` answers the case id; these operations take it (operation ids are route names).
CASE_OPERATIONS = (
    "read",
    "timeline",
    "provide_info",
    "decide_review",
    "extend_review",
    "appeal",
    "withdraw",
    "request_renewal",
    "extend_period",
    "adjudicate_claim",
    "clinical_event",
)
SUBMIT = "submit"
CASE_PARAMETER = "case_id"
#: Keywords whose values are data or prose, not schemas.
_DATA_KEYS = frozenset({"examples", "example", "default", "const", "enum", "description", "title"})
#: Keywords whose values map names (of anything) to schemas.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def operation_id(route: APIRoute) -> str:
    """Operation ids are the route functions' names: stable, short, and what links name."""
    return route.name


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with FastAPI's document, refined once and cached."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            refine(generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def refine(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the module docstring lists, applied to ``doc`` in place."""
    _one_error_shape(doc)
    _security_schemes(doc)
    _case_id_pattern(doc)
    _storable_strings(doc)
    _links(doc)
    return doc


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method in _HTTP_METHODS:
                yield path, method, operation


def _one_error_shape(doc: dict[str, Any]) -> None:
    fastapi_422 = "#/components/schemas/HTTPValidationError"
    for _, _, operation in _operations(doc):
        answer = operation.get("responses", {}).get("422", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("$ref") == fastapi_422:
            del operation["responses"]["422"]
    schemas = doc.get("components", {}).get("schemas", {})
    if fastapi_422 not in repr(doc.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _security_schemes(doc: dict[str, Any]) -> None:
    """Schemes that routes name without a FastAPI dependency to declare them."""
    from api.codec_server import SECURITY_SCHEMES

    named = {
        name for _, _, op in _operations(doc) for req in op.get("security", []) for name in req
    }
    schemes = doc.setdefault("components", {}).setdefault("securitySchemes", {})
    for name, scheme in SECURITY_SCHEMES.items():
        if name in named:
            schemes.setdefault(name, scheme)


def case_id_schema() -> dict[str, Any]:
    """``pa-`` and a request id, as ``PARequest.request_id`` states it."""
    rid = PARequest.model_json_schema()["properties"]["request_id"]
    inner = rid.get("pattern", "^.+$").removeprefix("^").removesuffix("$")
    schema: dict[str, Any] = {"type": "string", "pattern": f"^{CASE_PREFIX}(?:{inner})$"}
    if "maxLength" in rid:
        schema["maxLength"] = len(CASE_PREFIX) + rid["maxLength"]
    schema["minLength"] = len(CASE_PREFIX) + max(rid.get("minLength", 1), 1)
    return schema


def _case_id_pattern(doc: dict[str, Any]) -> None:
    for _, _, operation in _operations(doc):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and parameter.get("name") == CASE_PARAMETER:
                parameter["schema"] = {**parameter.get("schema", {}), **case_id_schema()}


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """The schemas directly inside ``schema`` (or inside a list of them)."""
    if isinstance(schema, list):
        for item in schema:
            yield from _subschemas(item)
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key in _DATA_KEYS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            yield from (v for v in value.values() if isinstance(v, dict))
        elif isinstance(value, dict):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, dict))


def _refs(schema: dict[str, Any]) -> Iterator[str]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        yield ref.rsplit("/", 1)[1]
    for sub in _subschemas(schema):
        yield from _refs(sub)


def _request_side(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], set[str]]:
    """Inline schemas of request bodies and parameters, and the components they reach."""
    inline: list[dict[str, Any]] = []
    for _, _, operation in _operations(doc):
        for parameter in operation.get("parameters", []):
            inline.append(parameter.setdefault("schema", {}))
        for media in operation.get("requestBody", {}).get("content", {}).values():
            inline.append(media.setdefault("schema", {}))
    schemas = doc.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    todo = [name for schema in inline for name in _refs(schema)]
    while todo:
        name = todo.pop()
        if name in reached or name not in schemas:
            continue
        reached.add(name)
        todo.extend(_refs(schemas[name]))
    return inline, reached


def _is_string(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def _constrain(schema: dict[str, Any]) -> None:
    if _is_string(schema) and not ({"pattern", "format", "enum", "const"} & schema.keys()):
        schema["pattern"] = STORABLE_PATTERN
    free_keys = schema.get("additionalProperties", True) is not False
    if schema.get("type") == "object" and free_keys and "propertyNames" not in schema:
        schema["propertyNames"] = {"pattern": STORABLE_PATTERN}
    for sub in list(_subschemas(schema)):
        _constrain(sub)


def _storable_strings(doc: dict[str, Any]) -> None:
    inline, reached = _request_side(doc)
    for schema in inline:
        _constrain(schema)
    schemas = doc.get("components", {}).get("schemas", {})
    for name in reached:
        _constrain(schemas[name])


def _links(doc: dict[str, Any]) -> None:
    by_id = {op.get("operationId"): op for _, _, op in _operations(doc)}
    targets = [name for name in CASE_OPERATIONS if name in by_id]
    submit = by_id.get(SUBMIT)
    if submit is not None:
        from_answer = {CASE_PARAMETER: "$response.body#/case_id"}
        for status in ("200", "201"):
            answer = submit.get("responses", {}).get(status)
            if answer is not None:
                answer["links"] = {
                    _link_name(target): {
                        "operationId": target,
                        "parameters": from_answer,
                        "description": f"`{target}` on the case just submitted",
                    }
                    for target in targets
                }


def _link_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))
