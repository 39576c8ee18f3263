"""Strict public bodies (CONTRACT.md, "Strict types"): nothing coerced, unknown fields refused.

The same rule holds whichever way a body is validated: from decoded JSON as
FastAPI does (python mode), from JSON text as the Temporal data converter
does (JSON mode), and from the Python values our own code builds.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from api.bodies import ExtensionBody, ReviewBody
from api.errors import field_errors
from domain.claim import ClaimLine
from domain.clinical_event import ClinicalEvent, ClinicalEventBody
from domain.request import PARequest
from tests.unit.factories import request_dict


def claim_dict(**changes: Any) -> dict[str, Any]:
    return {
        "claim_id": "CLM-77", "line": 1, "member_id": "M-1", "date_of_service": "2026-12-04",
        "hcpcs": "J9039", "ndc": "55513-0160-01", "units": 35, "modifiers": ["JW"],
        "icd10_codes": ["C91.00"], **changes,
    }  # fmt: skip


def event_dict(**changes: Any) -> dict[str, Any]:
    return {"event_id": "EV-9", "type": "toxicity", "date": "2027-01-10",
            "toxicity": {"kind": "crs", "grade": 3}, **changes}  # fmt: skip


def refused(model: type[BaseModel], data: Any) -> set[str]:
    """The fields named, validating both as FastAPI does and as the data converter does."""
    with pytest.raises(ValidationError) as python_mode:
        model.model_validate(data)
    with pytest.raises(ValidationError) as json_mode:
        model.model_validate_json(json.dumps(data))
    named = {e.field for e in field_errors(python_mode.value.errors())}
    assert named == {e.field for e in field_errors(json_mode.value.errors())}
    return named


def with_change(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[leaf] = value
    return data


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("diagnosis.b_cell_precursor", "yes"),
        ("diagnosis.b_cell_precursor", "true"),
        ("diagnosis.b_cell_precursor", 1),
        ("diagnosis.infant_all", 0),
        ("diagnosis.mrd_percent", "0.4"),
        ("clinical.weight_kg", "72"),
        ("clinical.weight_kg", True),
        ("clinical.live_vaccine_planned", "no"),
        ("therapy.prior_blinatumomab_cycles", "0"),
        ("therapy.prior_blinatumomab_cycles", 1.5),
        ("therapy.prior_blinatumomab_cycles", False),
        ("member.date_of_birth", 0),
        ("member.date_of_birth", "1980-04-02T00:00:00"),
        ("member.date_of_birth", "19800402"),
        ("service.requested_start", 1796169600),
        ("received_at", 0),
        ("received_at", "2026-12-01T09:00:00"),
        ("received_at", "2026-12-01"),
        ("received_at", "2026-12-01T09:00Z"),
        ("request_id", 1001),
        ("member.member_id", 1),
    ],
)
def test_a_request_value_of_another_json_type_is_refused_by_field(dotted, value):
    assert refused(PARequest, with_change(request_dict(), dotted, value)) == {dotted}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("units", "35"),
        ("units", 35.5),
        ("units", True),
        ("line", "1"),
        ("date_of_service", 0),
        ("date_of_service", "2026-12-04T00:00:00Z"),
        ("reversal", "false"),
        ("reversal", 0),
        ("claim_id", 77),
    ],
)
def test_a_claim_value_of_another_json_type_is_refused_by_field(field, value):
    assert refused(ClaimLine, claim_dict(**{field: value})) == {field}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date": 0}, "date"),
        ({"date": "2027-01-10T00:00:00Z"}, "date"),
        ({"toxicity": {"kind": "crs", "grade": "3"}}, "toxicity.grade"),
        ({"toxicity": {"kind": "crs", "grade": 3.5}}, "toxicity.grade"),
        ({"toxicity": {"kind": "crs", "grade": 3, "note": "x"}}, "toxicity.note"),
        ({"weight": None}, "weight"),
        ({"extra": 1}, "extra"),
        ({"type": "sneeze"}, "type"),
        ({"type": None}, "type"),
    ],
)
def test_a_clinical_event_is_refused_by_field_named_as_the_contract_names_it(changes, field):
    assert refused(ClinicalEventBody, event_dict(**changes)) == {field}


def test_an_event_type_without_its_payload_or_with_another_is_refused():
    assert refused(ClinicalEventBody, event_dict(type="weight")) == {"weight", "toxicity"}
    bare = {"event_id": "EV-1", "type": "death", "date": "2027-01-10"}
    assert refused(ClinicalEventBody, {**bare, "toxicity": {"kind": "crs", "grade": 3}}) == {
        "toxicity"
    }
    assert refused(ClinicalEventBody, {**bare, "type": "retraction"}) == {"retraction"}
    retraction = {**bare, "type": "retraction", "retraction": {"retracts": "EV-0"}}
    assert refused(ClinicalEventBody, retraction) == {"retraction.reason"}


def test_a_valid_event_body_becomes_the_internal_event():
    body = ClinicalEventBody.model_validate(
        {"event_id": "EV-2", "type": "retraction", "date": "2027-01-11",
         "retraction": {"retracts": "EV-1", "reason": "entered in error"}}
    )  # fmt: skip
    event = body.to_event()
    assert isinstance(event, ClinicalEvent)
    assert (event.type, event.date, event.retraction.retracts) == (
        "retraction",
        date(2027, 1, 11),
        "EV-1",
    )
    assert ClinicalEventBody.model_validate(event_dict()).to_event().toxicity.grade == 3


def test_json_numbers_with_no_fraction_are_integers_and_integers_are_numbers():
    line = ClaimLine.model_validate(claim_dict(units=35.0, line=2.0))
    assert (line.units, line.line) == (35, 2) and isinstance(line.units, int)
    request = PARequest.model_validate(with_change(request_dict(), "clinical.weight_kg", 72))
    assert request.clinical.weight_kg == 72.0


@pytest.mark.parametrize(
    "received_at",
    ["2026-12-01T09:00:00Z", "2026-12-01T09:00:00.000+00:00", "2026-12-01t04:00:00-05:00"],
)
def test_timestamps_with_a_zone_are_taken(received_at):
    request = PARequest.model_validate(with_change(request_dict(), "received_at", received_at))
    assert request.received_at == datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_values_built_in_code_are_taken_and_round_trip_through_json():
    request = PARequest.model_validate(request_dict())
    rebuilt = PARequest.model_validate(request.model_dump())  # date and datetime objects
    assert rebuilt == request
    assert PARequest.model_validate_json(request.model_dump_json()) == request
    line = ClaimLine(
        claim_id="C-1", line=1, member_id="M", date_of_service=date(2026, 12, 4), hcpcs="J9039",
        units=35,
    )  # fmt: skip
    assert ClaimLine.model_validate_json(line.model_dump_json()) == line


@pytest.mark.parametrize("value", ["", "A" * 65, "REQ 1", "REQ/1", "REQ#1", "réq", "R\n", "R\t1"])
def test_identifiers_are_1_to_64_characters_of_the_charset(value):
    assert refused(PARequest, with_change(request_dict(), "request_id", value)) == {"request_id"}
    assert refused(ClaimLine, claim_dict(claim_id=value)) == {"claim_id"}
    assert refused(ClinicalEventBody, event_dict(event_id=value)) == {"event_id"}
    retraction = {"event_id": "EV-1", "type": "retraction", "date": "2027-01-10",
                  "retraction": {"retracts": value, "reason": "entered in error"}}  # fmt: skip
    assert refused(ClinicalEventBody, retraction) == {"retraction.retracts"}


@pytest.mark.parametrize("value", ["A", "A" * 64, "Az09._:-", "pa-REQ-1001:2"])
def test_identifiers_of_the_charset_are_taken(value):
    assert PARequest.model_validate(with_change(request_dict(), "request_id", value))
    assert ClaimLine.model_validate(claim_dict(claim_id=value))
    assert ClinicalEventBody.model_validate(event_dict(event_id=value))


def test_action_bodies_are_strict_too():
    assert refused(ExtensionBody, {"days": "14", "rationale": "x"}) == {"days"}
    assert refused(ReviewBody, {"determination": "approve", "x": 1}) == {"x"}
    # Who acts comes from the credential: a body naming its reviewer is refused too.
    assert refused(ExtensionBody, {"reviewer_id": "r", "days": 14, "rationale": "x"}) == {
        "reviewer_id"
    }


def test_error_messages_never_repeat_the_input():
    secret = "Josephine-1961-04-23"
    data = with_change(request_dict(), "member.date_of_birth", secret)
    with_change(data, "diagnosis.b_cell_precursor", secret)
    with_change(data, "received_at", secret)
    with pytest.raises(ValidationError) as caught:
        PARequest.model_validate(data)
    messages = [e.message for e in field_errors(caught.value.errors())]
    assert len(messages) == 3 and not any(secret in m for m in messages)
