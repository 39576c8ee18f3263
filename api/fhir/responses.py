"""The FHIR door's HTTP answers: FHIR JSON, and a refusal as an OperationOutcome."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from interop.fhir.codes import FHIR_JSON
from interop.fhir.outcome import FhirError, operation_outcome


def fhir_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def error_response(exc: FhirError) -> JSONResponse:
    return fhir_response(operation_outcome(exc.issues), exc.status)
