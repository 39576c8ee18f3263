"""Scenarios for ``priorauth simulate`` (CONTRACT.md, "Scenario").

A scenario replays one case: the request, then events at days counted from
the request's ``received_at``, until ``until_day``. ``ScenarioResult`` is the
one JSON object the simulation prints. The request, claim lines and clinical
events in it are the public bodies, read as strictly as the API reads them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.claim import ClaimAnswer, ClaimLine
from domain.clinical_event import ClinicalEventBody
from domain.request import PARequest
from domain.strict import JsonInt

ScenarioAction = Literal[
    "decide_review",
    "claim",
    "clinical_event",
    "renewal_request",
    "provide_info",
    "extend_period",
    "appeal",
    "withdraw",
]

_REQUIRED: dict[str, tuple[str, ...]] = {
    "decide_review": ("determination",),
    "claim": ("claim",),
    "clinical_event": ("event",),
    "provide_info": ("facts",),
    "extend_period": ("days",),
}


class ScenarioEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: JsonInt = Field(ge=0)
    action: ScenarioAction
    reviewer: str | None = None
    determination: Literal["approve", "deny", "pend", "review"] | None = None
    rationale: str | None = None
    claim: ClaimLine | None = None
    event: ClinicalEventBody | None = None
    request: dict[str, Any] | None = None
    facts: dict[str, Any] | None = None
    days: JsonInt | None = Field(default=None, ge=1, le=365)
    reason: str | None = None

    @model_validator(mode="after")
    def _has_what_the_action_needs(self) -> ScenarioEvent:
        for name in _REQUIRED.get(self.action, ()):
            if getattr(self, name) is None:
                raise ValueError(f"action '{self.action}' needs '{name}'")
        return self


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: PARequest
    events: list[ScenarioEvent] = Field(default_factory=list)
    until_day: JsonInt = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _events_in_day_order(self) -> Scenario:
        days = [e.day for e in self.events]
        if days != sorted(days):
            raise ValueError("events must be in day order")
        return self


class PeriodOut(BaseModel):
    start: date
    end: date
    kind: Literal["initial", "renewal", "extension"] = "initial"


class CycleOut(BaseModel):
    cycle: int
    start: date
    phase: str


class NotificationOut(BaseModel):
    kind: str
    day: int


class StatusChangeOut(BaseModel):
    status: str
    day: int


class ScenarioResult(BaseModel):
    request_id: str
    status: str
    track: str | None = None
    periods: list[PeriodOut] = Field(default_factory=list)
    renewals_used: int = 0
    cycles: list[CycleOut] = Field(default_factory=list)
    units_paid: int = 0
    claims: list[ClaimAnswer] = Field(default_factory=list)
    notifications: list[NotificationOut] = Field(default_factory=list)
    status_changes: list[StatusChangeOut] = Field(default_factory=list)
