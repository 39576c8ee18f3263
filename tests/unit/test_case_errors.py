"""One mapping: Temporal's failures become our case errors, and each one HTTP answer."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import case_error
from cases import errors


def _rejected(message: str, kind: str | None, *details: object) -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError(message, *details, type=kind))


def test_a_validator_input_error_naming_fields_is_invalid_input_field_by_field():
    failure = _rejected(
        "date: before the case was received",
        "InvalidInput",
        {"errors": [{"field": "date", "message": "before the case was received"}]},
    )
    error = errors.update_failed(failure, "body")
    assert isinstance(error, errors.InvalidCaseInput)
    assert [(f.field, f.message) for f in error.fields] == [
        ("date", "before the case was received")
    ]
    answer = case_error(error)
    assert (answer.status_code, answer.error, answer.message) == (
        422,
        "invalid",
        "the input is not valid",
    )
    assert [e.field for e in answer.errors] == ["date"]


def test_an_input_error_naming_no_field_is_about_the_part_the_caller_names():
    error = errors.update_failed(_rejected("not a known fact", "ValidationError"), "facts")
    assert isinstance(error, errors.InvalidCaseInput)
    assert [(f.field, f.message) for f in error.fields] == [("facts", "not a known fact")]


def test_any_other_validator_refusal_is_a_409_with_its_reason():
    error = errors.update_failed(_rejected("the case is not pended", "NotNow"), "body")
    assert isinstance(error, errors.CaseRefused)
    answer = case_error(error)
    assert (answer.status_code, answer.error, answer.message) == (
        409,
        "conflict",
        "the case is not pended",
    )


def test_the_reason_is_found_under_wrapping_failures():
    wrapped = WorkflowUpdateFailedError(RuntimeError("outer"))
    wrapped.cause.__cause__ = ApplicationError("inner reason", type="NotNow")
    assert errors.update_failed(wrapped, "body").message == "inner reason"


@pytest.mark.parametrize(
    ("status", "kind", "http"),
    [
        (RPCStatusCode.UNAVAILABLE, errors.TemporalUnavailable, 503),
        (RPCStatusCode.DEADLINE_EXCEEDED, errors.TemporalUnavailable, 503),
        (RPCStatusCode.PERMISSION_DENIED, errors.TemporalRefused, 502),
        (RPCStatusCode.INTERNAL, errors.TemporalRefused, 502),
    ],
)
def test_temporal_unreachable_is_503_and_refusing_is_502(status, kind, http):
    error = errors.rpc_error(RPCError("down", status, b""))
    assert isinstance(error, kind)
    assert case_error(error).status_code == http
    assert "down" not in error.message  # Temporal's own words stay in the log


@pytest.mark.parametrize(
    ("error", "http", "code"),
    [
        (errors.CaseNotFound("pa-X"), 404, "not_found"),
        (errors.CaseTimeout("pa-X"), 504, "timeout"),
        (errors.CaseQueryFailed("case pa-X could not answer status"), 502, "query_failed"),
    ],
)
def test_each_case_error_has_one_http_answer(error, http, code):
    answer = case_error(error)
    assert (answer.status_code, answer.error) == (http, code)
    assert "pa-X" in answer.message


def test_an_ended_case_is_a_409_carrying_its_status():
    answer = case_error(errors.CaseEnded("pa-X", "expired", "case pa-X has ended (expired)"))
    assert (answer.status_code, answer.case_status) == (409, "expired")
    assert answer.message == "case pa-X has ended (expired)"
