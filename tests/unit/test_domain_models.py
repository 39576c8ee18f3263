"""The public models of CONTRACT.md and merging facts into a request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.clinical_event import ClinicalEvent
from domain.facts import merge_facts
from domain.request import PARequest
from domain.scenario import Scenario
from tests.unit.factories import request, request_dict


def test_the_contract_request_validates():
    req = PARequest.model_validate(request_dict())

    assert req.received_at.tzinfo is not None
    assert req.diagnosis.ph_status == "negative"


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"received_at": "2026-12-01T09:00:00"}, ("received_at",)),
        ({"member.date_of_birth": "1980-13-01"}, ("member", "date_of_birth")),
        ({"diagnosis.ph_status": "unknown"}, ("diagnosis", "ph_status")),
        ({"therapy.combined_with": ["radiation"]}, ("therapy", "combined_with", 0)),
        ({"therapy.tki": "asciminib"}, ("therapy", "tki")),
        ({"diagnosis.mrd_percent": -1}, ("diagnosis", "mrd_percent")),
        ({"member.nickname": "A"}, ("member", "nickname")),
    ],
)
def test_a_malformed_request_is_refused_field_by_field(changes, location):
    with pytest.raises(ValidationError) as caught:
        PARequest.model_validate(request_dict("adult_rr", changes))

    assert [e["loc"] for e in caught.value.errors()] == [location]


def test_unstated_facts_default_to_none_meaning_unknown():
    data = request_dict()
    del data["diagnosis"]["ph_status"]
    del data["therapy"]["combined_with"]

    req = PARequest.model_validate(data)

    assert (req.diagnosis.ph_status, req.therapy.combined_with) == (None, None)


def test_merge_facts_takes_dotted_paths_and_nested_changes():
    merged = merge_facts(
        request("adult_mrd"),
        {"diagnosis.mrd_percent": 0.4, "therapy": {"combined_with": ["chemotherapy"]}},
    )

    assert merged.diagnosis.mrd_percent == 0.4
    assert merged.therapy.combined_with == ["chemotherapy"]
    assert merged.therapy.setting == "mrd_positive"


def test_merge_facts_validates_the_result():
    with pytest.raises(ValidationError):
        merge_facts(request(), {"diagnosis.ph_status": "maybe"})
    with pytest.raises(ValidationError):
        merge_facts(request(), {"diagnosis.no_such_fact": 1})


@pytest.mark.parametrize(
    "data",
    [
        {"type": "toxicity", "toxicity": {"kind": "crs", "grade": 3}},
        {"type": "response_assessment",
         "response_assessment": {"result": "stable", "method": "ngs"}},
        {"type": "weight", "weight": {"weight_kg": 40.5, "height_cm": 150}},
        {"type": "cycle_started", "cycle_started": {"cycle": 2}},
        {"type": "live_vaccine"},
        {"type": "discontinued"},
        {"type": "death"},
    ],
)  # fmt: skip
def test_clinical_events_carry_the_payload_named_by_their_type(data):
    event = ClinicalEvent.model_validate({"event_id": "EV-1", "date": "2027-01-10", **data})

    assert event.type == data["type"]


@pytest.mark.parametrize(
    "data",
    [
        {"type": "toxicity"},
        {"type": "toxicity", "toxicity": {"kind": "crs", "grade": 6}},
        {"type": "death", "toxicity": {"kind": "crs", "grade": 3}},
        {"type": "response_assessment", "response_assessment": {"result": "cure", "method": "cbc"}},
    ],
)
def test_a_clinical_event_without_its_payload_or_with_another_is_refused(data):
    with pytest.raises(ValidationError):
        ClinicalEvent.model_validate({"event_id": "EV-1", "date": "2027-01-10", **data})


def test_a_scenario_of_the_contract_validates():
    scenario = Scenario.model_validate(
        {
            "request": request_dict(),
            "events": [
                {"day": 0, "action": "decide_review", "reviewer": "rph-1",
                 "determination": "approve"},
                {"day": 200, "action": "provide_info", "facts": {"diagnosis.mrd_percent": 0.4}},
                {"day": 210, "action": "extend_period", "reviewer": "rph-1", "days": 14,
                 "rationale": "paused"},
                {"day": 500, "action": "withdraw"},
            ],
            "until_day": 600,
        }
    )  # fmt: skip

    assert [e.action for e in scenario.events][-1] == "withdraw"
