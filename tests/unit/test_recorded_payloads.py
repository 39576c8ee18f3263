"""What a running case already accepted still decodes after the rules tightened.

Cases started before CONTRACT.md's strict types and the covered-drug rule may
hold a request id of up to 253 printable characters, a drug no policy covers,
or facts a lax reader coerced. Temporal payloads are decoded as recorded data
(``infra.temporal``, ``domain.strict.RECORDED``) and the workflow re-reads
accepted facts the same way, so such a case keeps decoding and replaying;
the public edges stay strict.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cases.config import case_config
from domain.claim import ClaimLine
from domain.facts import fact_problems, merge_facts
from domain.request import PARequest
from infra.settings import Settings
from infra.temporal import data_converter
from tests.unit.factories import request_dict
from workflows.messages import CaseInput


def old_request() -> dict:
    data = request_dict()
    data["request_id"] = "REQ 1001/legacy"
    data["service"].update(hcpcs="J9999", ndc=None)
    return data


def recorded_case_input() -> dict:
    """A CaseInput as a case recorded it: every case carried its clocks."""
    config = case_config(Settings()).model_dump(mode="json")
    return {"request": old_request(), "member_ref": "m", "config": config}


def decode(value: dict, type_hint: type):
    payload = data_converter().payload_converter.to_payloads([value])
    [decoded] = data_converter().payload_converter.from_payloads(payload, [type_hint])
    return decoded


def test_a_recorded_case_input_with_an_old_id_and_another_drug_still_decodes():
    with pytest.raises(ValidationError):
        PARequest.model_validate(old_request())  # refused at the edge today
    case_input = decode(recorded_case_input(), CaseInput)
    assert case_input.request.request_id == "REQ 1001/legacy"
    assert case_input.request.service.hcpcs == "J9999"


def test_a_recorded_claim_line_with_an_old_claim_id_still_decodes():
    line = {"claim_id": "CLM 77", "line": 1, "member_id": "M-1", "date_of_service": "2026-12-04",
            "hcpcs": "J9039", "units": 35}  # fmt: skip
    with pytest.raises(ValidationError):
        ClaimLine.model_validate(line)
    assert decode(line, ClaimLine).claim_id == "CLM 77"


def test_payloads_still_round_trip_through_the_converter():
    request = PARequest.model_validate(request_dict())
    assert decode(json.loads(request.model_dump_json()), PARequest) == request


def test_facts_a_case_accepted_are_re_read_as_accepted_new_ones_strictly():
    request = PARequest.model_validate(request_dict())
    with pytest.raises(ValidationError):
        merge_facts(request, {"diagnosis.mrd_percent": "0.4"})
    assert (
        merge_facts(request, {"diagnosis.mrd_percent": "0.4"}, recorded=True).diagnosis.mrd_percent
        == 0.4
    )


def test_only_the_facts_are_judged_not_what_the_case_already_holds():
    recorded = decode(recorded_case_input(), CaseInput).request
    facts = {"diagnosis.mrd_percent": 0.4}
    with pytest.raises(ValidationError) as caught:
        merge_facts(recorded, facts)  # the recorded request id and drug fail today's rules
    assert fact_problems(caught.value, facts) == []
    bad = {"diagnosis": {"mrd_percent": "lots"}, "clinical.weight_kg": True}
    with pytest.raises(ValidationError) as caught:
        merge_facts(recorded, bad)
    assert {p["field"] for p in fact_problems(caught.value, bad)} == {
        "facts.diagnosis.mrd_percent",
        "facts.clinical.weight_kg",
    }
