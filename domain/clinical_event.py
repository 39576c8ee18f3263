"""Clinical events sent to a live authorization (CONTRACT.md, "Clinical event").

The payload key equals the type name (``{"type": "toxicity", "toxicity": {...}}``);
``live_vaccine``, ``discontinued`` and ``death`` carry none. Toxicity and
response feed the renewal criteria (Section IV); weight changes the dosing
basis from the next cycle on (Section V).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EventType = Literal[
    "toxicity",
    "response_assessment",
    "weight",
    "live_vaccine",
    "cycle_started",
    "discontinued",
    "death",
]
ToxicityKind = Literal[
    "crs",
    "icans",
    "serious_infection",
    "pancreatitis",
    "tumor_lysis_syndrome",
    "neutropenia",
    "febrile_neutropenia",
    "elevated_liver_enzymes",
    "leukoencephalopathy",
    "other",
]
ResponseResult = Literal["complete_response", "partial_response", "stable", "progression"]
ResponseMethod = Literal["cbc", "bone_marrow", "qpcr", "fish", "flow_cytometry", "ngs"]

PAYLOAD_TYPES = ("toxicity", "response_assessment", "weight", "cycle_started")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Toxicity(_Strict):
    kind: ToxicityKind
    grade: int = Field(ge=1, le=5)


class ResponseAssessment(_Strict):
    result: ResponseResult
    method: ResponseMethod


class WeightChange(_Strict):
    weight_kg: float = Field(gt=0, le=500)
    height_cm: float | None = Field(default=None, gt=0, le=300)


class CycleStarted(_Strict):
    cycle: int = Field(ge=1)


class ClinicalEvent(_Strict):
    event_id: str = Field(min_length=1)
    type: EventType
    date: date
    toxicity: Toxicity | None = None
    response_assessment: ResponseAssessment | None = None
    weight: WeightChange | None = None
    cycle_started: CycleStarted | None = None

    @model_validator(mode="after")
    def _payload_matches_type(self) -> ClinicalEvent:
        for name in PAYLOAD_TYPES:
            present = getattr(self, name) is not None
            if name == self.type and not present:
                raise ValueError(f"a {self.type} event needs its '{name}' payload")
            if name != self.type and present:
                raise ValueError(f"'{name}' payload does not belong to a {self.type} event")
        return self
