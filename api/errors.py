"""How the API says no: one error shape, never a traceback.

- 422: ``{"error": "invalid", "message": ..., "errors": [{"field": "member.date_of_birth",
  "message": ...}]}`` — field paths are dotted, as CONTRACT.md writes them;
- 400: a body that is not JSON at all (not UTF-8, or not JSON syntax): RFC 9110
  keeps 422 for content whose syntax is right, so a body that cannot be read is
  ``{"error": "malformed", ..., "errors": [{"field": "body", ...}]}`` with 400;
- 401/403/404/409: ``{"error": <code>, "message": <reason>}``;
- 405: the ``Allow`` header lists every method of the path (RFC 9110, 15.5.6),
  not only those of the first route FastAPI matched;
- a case that did not give its answer (``cases.errors``): one status per error, below
  (``case_error``);
- anything unexpected: logged with its traceback, answered 500 with the
  request's correlation id (also sent back as ``X-Correlation-ID``).

No error body echoes the caller's input values (they may be PHI): field
errors carry pydantic's message, never its ``input``, and every message goes
through :func:`scrub` on its way out, which cuts pydantic's ``input_value=…``
echo and any keyed PHI (``date_of_birth=…``) that a lower layer let through.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.service import RPCError, RPCStatusCode

from cases import errors as case_errors
from domain.facts import shown_name
from infra.logging import scrub

log = structlog.get_logger("api")

CORRELATION_HEADER = "X-Correlation-ID"
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API returns."""

    error: str
    message: str
    errors: list[FieldError] = Field(default_factory=list)
    case_status: str | None = None
    correlation_id: str | None = None


class ApiError(StarletteHTTPException):
    """An answer other than success, raised anywhere below a route.

    A Starlette ``HTTPException`` so that routers wrapping their own errors
    (the codec server adds CORS headers) still see auth failures.
    """

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        case_status: str | None = None,
    ) -> None:
        super().__init__(status_code, detail=message, headers=headers)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.errors = list(errors)
        self.headers = headers
        self.case_status = case_status


def not_found(case_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no case {case_id}")


def conflict(reason: str, case_status: str | None = None) -> ApiError:
    return ApiError(409, "conflict", reason, case_status=case_status)


def case_error(exc: case_errors.CaseError) -> ApiError:
    """The HTTP answer to each of the case client's errors (cases/errors.py lists them)."""
    match exc:
        case case_errors.CaseNotFound():
            return not_found(exc.case_id)
        case case_errors.CaseEnded():
            return conflict(exc.message, exc.status)
        case case_errors.CaseRefused():
            return conflict(exc.message)
        case case_errors.InvalidCaseInput():
            fields = [FieldError(field=f.field, message=f.message) for f in exc.fields]
            return ApiError(422, "invalid", "the input is not valid", fields)
        case case_errors.CaseTimeout():
            return ApiError(504, "timeout", exc.message)
        case case_errors.CaseQueryFailed():
            return ApiError(502, "query_failed", exc.message)
        case case_errors.TemporalUnavailable():
            return ApiError(503, "unavailable", exc.message)
        case _:
            return ApiError(502, "temporal_error", exc.message)


def field_path(loc: Iterable[Any], *, request_loc: bool = False) -> str:
    """pydantic's ``loc`` -> ``member.date_of_birth`` (``diagnosis.icd10_codes[0]``).

    ``request_loc``: FastAPI's locations start with where the value came from
    (body, path, query); a model's own locations never do (a field may be named
    ``path``).
    """
    parts = list(loc)
    if request_loc and parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-after[", "function-before[", "function-wrap[")):
            continue
        else:
            # An unknown key of another shape is input, not a name; a dotted fact is a
            # path of names, each shown as a name would be (facts.diagnosis.(unknown field)).
            name = ".".join(shown_name(segment) for segment in str(part).split("."))
            out += f".{name}" if out else name
    return out or "body"


def field_errors(
    errors: Iterable[Mapping[str, Any]], *, request_loc: bool = False
) -> list[FieldError]:
    """pydantic error dicts -> field-level messages (no input values echoed: they may be PHI)."""
    out: list[FieldError] = []
    for err in errors:
        message = str(err.get("msg", "invalid"))
        field = field_path(err.get("loc", ()), request_loc=request_loc)
        if err.get("type") == "json_invalid":
            message, field = NOT_JSON, "body"
        out.append(FieldError(field=field, message=message))
    return out


#: FastAPI's own detail when a body cannot be decoded at all (invalid UTF-8).
_UNPARSABLE_DETAIL = "There was an error parsing the body"
NOT_JSON = "the body is not valid JSON"


def malformed_body() -> ApiError:
    """400: the body cannot be read as JSON (RFC 9110, 15.5.1), before any field is looked at."""
    return ApiError(
        400, "malformed", "the body is not valid JSON", [FieldError(field="body", message=NOT_JSON)]
    )


def _body(request: Request, exc: ApiError) -> dict[str, Any]:
    body = ErrorBody(
        error=exc.error,
        message=scrub(exc.message),
        errors=[FieldError(field=e.field, message=scrub(e.message)) for e in exc.errors],
        case_status=exc.case_status,
    )
    if exc.status_code >= 500:
        body.correlation_id = correlation_id(request)
    data = body.model_dump(mode="json", exclude_none=True)
    if not data["errors"]:
        del data["errors"]
    return data


def correlation_id(request: Request) -> str:
    return getattr(request.state, "correlation_id", None) or "-"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app takes fully at this request's path.

    Asked of the routes one method at a time: included routers answer for
    their own routes, so no route list needs flattening.
    """
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers and the correlation-id / last-resort middleware."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status_code >= 500:
            log.error("api error", status=exc.status_code, error=exc.error)
        return JSONResponse(_body(request, exc), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            err = malformed_body()
        else:
            errors = field_errors(exc.errors(), request_loc=True)
            err = ApiError(422, "invalid", "the input is not valid", errors)
        log.info("invalid input", path=request.url.path, fields=[e.field for e in err.errors])
        return JSONResponse(_body(request, err), status_code=err.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_DETAIL:
            err = malformed_body()
        else:
            err = ApiError(
                exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), str(exc.detail)
            )
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse(
            _body(request, err), status_code=exc.status_code, headers=headers or None
        )

    @app.exception_handler(case_errors.CaseError)
    async def _case(request: Request, exc: case_errors.CaseError) -> JSONResponse:
        err = case_error(exc)
        if err.status_code >= 500:
            log.error("case call failed", path=request.url.path, error=type(exc).__name__)
        return JSONResponse(_body(request, err), status_code=err.status_code)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        log.error("temporal call failed", path=request.url.path, rpc_status=exc.status.name)
        unavailable = exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
        err = (
            ApiError(503, "unavailable", "Temporal is unavailable; try again")
            if unavailable
            else ApiError(502, "temporal_error", "Temporal refused the call")
        )
        return JSONResponse(_body(request, err), status_code=err.status_code)

    @app.middleware("http")
    async def _correlate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        cid = request.headers.get(CORRELATION_HEADER) or uuid.uuid4().hex
        cid = cid[:64]
        request.state.correlation_id = cid
        structlog.contextvars.bind_contextvars(correlation_id=cid)
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled error", path=request.url.path, method=request.method)
            err = ApiError(500, "internal", "internal error; quote the correlation id")
            response = JSONResponse(_body(request, err), status_code=500)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id")
        response.headers[CORRELATION_HEADER] = cid
        return response
