"""The API's one door to Temporal: updates and queries with their errors mapped.

- an update the case refuses in its current state (``accepted=False``) -> 409 with the reason;
- an update the workflow's validator rejects -> 409 (422 when it names bad input: the
  fields the validator's error details name, else ``input_field``);
- no such workflow -> 404; a case that has already ended -> 409 naming its status (and,
  for a case that had a claims run-out, the day it ended: POLICY.md, Claims run-out);
- no answer in time (no worker?) -> 504.

Route handlers never see a Temporal exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError, FieldError, conflict, not_found
from infra.temporal import AUTH_RUN_OUT_UNTIL, AUTH_STATUS

log = structlog.get_logger("api.gateway")

T = TypeVar("T")

#: How long the API waits for a case to answer an update or a query.
ANSWER_TIMEOUT = timedelta(seconds=30)
#: One attempt at a query (see ``query``); a live case answers in milliseconds.
QUERY_ATTEMPT = timedelta(seconds=5)
#: ApplicationError types a validator uses for malformed input (422 rather than 409).
INVALID_INPUT_TYPES = frozenset({"InvalidInput", "ValidationError", "invalid_input"})


def handle(client: Client, case_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(case_id)


async def _closed(client: Client, case_id: str) -> tuple[str, str] | None:
    """(status, why) of an ended case, None if it runs; 404 if it never existed."""
    try:
        desc = await handle(client, case_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise not_found(case_id) from None
        raise
    if desc.status == WorkflowExecutionStatus.RUNNING:
        return None
    attrs = desc.typed_search_attributes
    status = attrs.get(AUTH_STATUS) or (desc.status.name.lower() if desc.status else "closed")
    why = f"case {case_id} has ended ({status}) and takes no more messages"
    run_out = attrs.get(AUTH_RUN_OUT_UNTIL)
    if run_out is not None:
        why += (
            f": its claims run-out ended {run_out.date()} "
            "(the time limit for filing has expired, CARC 29)"
        )
    return status, why


async def _not_found_or_closed(client: Client, case_id: str, exc: RPCError) -> ApiError:
    closed = await _closed(client, case_id)
    if closed is not None:
        status, why = closed
        return conflict(why, status)
    log.warning("rpc refused on a running case", case=case_id, rpc_status=str(exc.status))
    return ApiError(502, "temporal_error", "Temporal refused the call")


def _failure_message(exc: BaseException) -> tuple[str, str | None, list[FieldError]]:
    """The refusal's message, its type and the fields its details name (``{"errors": [...]}``)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.message, cause.type, _detail_fields(cause.details)
        if isinstance(cause, FailureError) and cause.cause is None:
            return cause.message, None, []
        cause = cause.__cause__ or getattr(cause, "cause", None)
    return str(exc) or "refused", None, []


def _detail_fields(details: Sequence[Any]) -> list[FieldError]:
    fields: list[FieldError] = []
    for detail in details:
        errors = detail.get("errors") if isinstance(detail, dict) else None
        for error in errors if isinstance(errors, list) else []:
            if (
                isinstance(error, dict)
                and isinstance(error.get("field"), str)
                and isinstance(error.get("message"), str)
            ):
                fields.append(FieldError(field=error["field"], message=error["message"]))
    return fields


async def update(
    client: Client,
    case_id: str,
    name: str,
    arg: Any,
    result_type: type[T],
    *,
    input_field: str = "body",
) -> T:
    """Run update ``name`` and return its result; a refusal in the result is the caller's.

    ``input_field`` names the part of the body a validator's input error is about.
    """
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT.total_seconds()):
            result: T = await handle(client, case_id).execute_update(
                name, arg, result_type=result_type
            )
            return result
    except WorkflowUpdateFailedError as exc:
        message, kind, fields = _failure_message(exc.cause)
        log.info("update rejected", case=case_id, update=name, failure_type=kind)
        if kind in INVALID_INPUT_TYPES:
            errors = fields or [FieldError(field=input_field, message=message)]
            raise ApiError(422, "invalid", "the input is not valid", errors) from None
        raise conflict(message) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise await _not_found_or_closed(client, case_id, exc) from None
        raise
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise _timeout(case_id) from None


async def query(client: Client, case_id: str, name: str, result_type: type[T]) -> T:
    """Ask the case; an attempt unanswered within QUERY_ATTEMPT is asked again.

    A case that has ended answers a query by replaying its history on a
    worker, which then evicts it; a query that arrives meanwhile can be dropped
    by the worker ("leftover buffered tasks when evicting run") and would go
    unanswered until the deadline. Queries change nothing, so asking again is safe.
    """
    h = handle(client, case_id)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT.total_seconds()):
            while True:
                try:
                    async with asyncio.timeout(QUERY_ATTEMPT.total_seconds()):
                        answer: T = await h.query(name, result_type=result_type)
                        return answer
                except TimeoutError:
                    log.warning("query unanswered, asking again", case=case_id, query=name)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise not_found(case_id) from None
        raise
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        log.warning("query failed", case=case_id, query=name, error=type(exc).__name__)
        raise ApiError(502, "query_failed", f"case {case_id} could not answer {name}") from None
    except TimeoutError:
        raise _timeout(case_id) from None


def _timeout(case_id: str) -> ApiError:
    return ApiError(504, "timeout", f"case {case_id} did not answer in time (is a worker running?)")
