"""What can go wrong when talking to a case, in our words, and the one mapping from Temporal's.

Every caller of the case client (the API, the CLI's demo and ``simulate``, the
bench, the tests) sees these, never a Temporal exception. The API answers each
with one HTTP status (``api/errors.py``), the HTTP CLI turns that status into
its exit code (``commands/cases.py``):

=========================  ====  ==================================================
error                      HTTP  when
=========================  ====  ==================================================
``CaseNotFound``           404   no case has this id
``CaseEnded``              409   the case has ended (its status; the run-out's end)
``CaseRefused``            409   the case's validator refused the message now
``InvalidCaseInput``       422   the validator named bad input, field by field
``CaseTimeout``            504   the case did not answer in time (no worker?)
``CaseQueryFailed``        502   a query failed inside the workflow
``TemporalRefused``        502   Temporal refused the call
``TemporalUnavailable``    503   Temporal is unreachable
=========================  ====  ==================================================

An update the case *answers* with ``accepted: false`` is not an error here:
its result says why, and the caller decides (the API answers 409).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

#: ApplicationError types a validator uses for malformed input (422 rather than 409).
INVALID_INPUT_TYPES = frozenset({"InvalidInput", "ValidationError", "invalid_input"})


@dataclass(frozen=True)
class FieldProblem:
    """One bad field of a message: its dotted path and what is wrong (never its value)."""

    field: str
    message: str


class CaseError(Exception):
    """A call to a case that did not get the case's answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CaseNotFound(CaseError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


class CaseEnded(CaseError):
    """The case's workflow has completed: it takes no more messages."""

    def __init__(self, case_id: str, status: str, message: str) -> None:
        super().__init__(message)
        self.case_id = case_id
        self.status = status


class CaseRefused(CaseError):
    """The case's validator refused the message in its current state."""


class InvalidCaseInput(CaseError):
    """The case's validator named what is wrong with the message, field by field.

    ``message`` is the validator's own (it names fields, never their values)."""

    def __init__(self, message: str, fields: Sequence[FieldProblem] = ()) -> None:
        super().__init__(message)
        self.fields = list(fields)


class CaseTimeout(CaseError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} did not answer in time (is a worker running?)")
        self.case_id = case_id


class CaseQueryFailed(CaseError):
    pass


class TemporalRefused(CaseError):
    pass


class TemporalUnavailable(CaseError):
    pass


def rpc_error(exc: RPCError) -> CaseError:
    """A Temporal RPC failure other than a missing workflow."""
    if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return TemporalUnavailable("Temporal is unavailable; try again")
    return TemporalRefused("Temporal refused the call")


def update_failed(exc: WorkflowUpdateFailedError, input_field: str) -> CaseError:
    """The workflow's validator (or handler) raised: bad input (422) or refused now (409).

    ``input_field`` names the part of the message an input error is about when the
    failure's details name no fields (``{"errors": [{"field", "message"}]}``).
    """
    message, kind, fields = failure_message(exc.cause)
    if kind in INVALID_INPUT_TYPES:
        return InvalidCaseInput(message, fields or [FieldProblem(input_field, message)])
    return CaseRefused(message)


def failure_message(exc: BaseException | None) -> tuple[str, str | None, list[FieldProblem]]:
    """The refusal's message, its type and the fields its details name."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.message, cause.type, _detail_fields(cause.details)
        if isinstance(cause, FailureError) and cause.cause is None:
            return cause.message, None, []
        cause = cause.__cause__ or getattr(cause, "cause", None)
    return str(exc) if exc else "refused", None, []


def _detail_fields(details: Sequence[Any]) -> list[FieldProblem]:
    fields: list[FieldProblem] = []
    for detail in details:
        errors = detail.get("errors") if isinstance(detail, dict) else None
        for error in errors if isinstance(errors, list) else []:
            if (
                isinstance(error, dict)
                and isinstance(error.get("field"), str)
                and isinstance(error.get("message"), str)
            ):
                fields.append(FieldProblem(field=error["field"], message=error["message"]))
    return fields
