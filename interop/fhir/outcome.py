"""OperationOutcome: how the FHIR door says no (FHIR.md: 400 naming the element).

Every issue names the element by a FHIRPath ``expression`` and says what is wrong
with it; no issue repeats a value the caller sent (it may be PHI): pydantic's
messages go through ``infra.logging.scrub`` and any message holding the input is
replaced by a generic one. The HTTP answers are ``api.fhir.responses``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.logging import scrub


@dataclass(frozen=True)
class Issue:
    expression: str
    message: str
    code: str = "invalid"  # FHIR issue-type: invalid, required, structure, not-supported ...
    severity: str = "error"


class FhirError(Exception):
    """A refusal answered as an OperationOutcome (400 unless said otherwise)."""

    def __init__(self, issues: Sequence[Issue], status: int = 400) -> None:
        super().__init__("; ".join(f"{i.expression}: {i.message}" for i in issues))
        self.issues = list(issues)
        self.status = status


def invalid(expression: str, message: str, code: str = "invalid") -> FhirError:
    return FhirError([Issue(expression, message, code)])


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    from fhir.resources.R4B.operationoutcome import OperationOutcome

    model = OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": i.severity,
                    "code": i.code,
                    "diagnostics": i.message,
                    "expression": [i.expression],
                }
                for i in issues
            ],
        }
    )
    return model.model_dump(mode="json", exclude_none=True)


def expression(prefix: str, loc: Sequence[Any]) -> str:
    """A pydantic location under ``prefix`` as FHIRPath: ``Bundle.entry[0].resource.item``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            out += f".{text}" if text.replace("_", "").isalnum() else ".(unknown element)"
    return out


def model_issues(prefix: str, errors: Iterable[Mapping[str, Any]]) -> list[Issue]:
    """pydantic errors (with their input) -> issues that name the element, never the value."""
    issues = []
    for err in errors:
        message = scrub(str(err.get("msg", "invalid")))
        value = err.get("input")
        if isinstance(value, str | int | float) and str(value) and str(value) in message:
            message = "has an invalid value"
        if err.get("type") == "extra_forbidden":
            message = "is not an element of this resource (FHIR R4)"
        issues.append(Issue(expression(prefix, err.get("loc", ())), message, _code(err)))
    return issues


def _code(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    if kind == "missing":
        return "required"
    if kind in ("extra_forbidden", "model_type", "dict_type", "list_type"):
        return "structure"
    return "value"
