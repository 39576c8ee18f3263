"""Clinical events sent to a live authorization (CONTRACT.md, "Clinical event").

The payload key equals the type name (``{"type": "toxicity", "toxicity": {...}}``);
``live_vaccine``, ``discontinued`` and ``death`` carry none. Toxicity and
response feed the renewal criteria (Section IV); weight changes the dosing
basis from the next cycle on (Section V). A ``retraction``
(``{"retraction": {"retracts": "<event_id>", "reason": "..."}}``) withdraws an
earlier event as entered in error: a retracted event no longer counts
(``effective_events``), and a case discontinued by a retracted ``death`` or
``discontinued`` event is reinstated by the workflow.

Two shapes of the same JSON:

- ``ClinicalEventBody``, the public body: a union discriminated by ``type``,
  one model per type with exactly its payload, so the schema states the
  per-type rules. Read strictly (``domain.strict``); its field errors are
  named as CONTRACT.md writes them (``toxicity.grade``, ``type``), without
  the union's tag.
- ``ClinicalEvent``, the one internal model the workflow, the activities and
  the renewal engine carry (and that recorded histories hold): every payload
  optional, checked against ``type``. ``ClinicalEventBody.to_event()`` gives it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    RootModel,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.strict import STRICT_MODEL, Identifier, IsoDate, JsonInt, JsonNumber

EventType = Literal[
    "toxicity",
    "response_assessment",
    "weight",
    "live_vaccine",
    "cycle_started",
    "discontinued",
    "death",
    "retraction",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
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

PAYLOAD_TYPES = ("toxicity", "response_assessment", "weight", "cycle_started", "retraction")
#: Events that end treatment: a case they discontinued is reinstated when they are retracted.
DISCONTINUING = frozenset({"death", "discontinued"})
#: What a retraction may withdraw. A ``cycle_started`` event started a cycle the claims
#: and the projection already count, and a retraction is final: neither can be retracted.
RETRACTABLE = frozenset(
    {"toxicity", "response_assessment", "weight", "live_vaccine", "discontinued", "death"}
)


class _Strict(BaseModel):
    model_config = STRICT_MODEL


class Toxicity(_Strict):
    kind: ToxicityKind
    grade: JsonInt = Field(ge=1, le=5)


class ResponseAssessment(_Strict):
    result: ResponseResult
    method: ResponseMethod


class WeightChange(_Strict):
    weight_kg: JsonNumber = Field(gt=0, le=500)
    height_cm: JsonNumber | None = Field(default=None, gt=0, le=300)


class CycleStarted(_Strict):
    cycle: JsonInt = Field(ge=1)


class Retraction(_Strict):
    """CONTRACT.md: an earlier event of this case, withdrawn as entered in error."""

    retracts: Identifier = Field(description="the event_id of the event entered in error")
    reason: str = Field(min_length=1, max_length=500, examples=["entered in error"])


class ClinicalEvent(_Strict):
    """The internal shape of every event (workflow state, activities, recorded histories)."""

    event_id: str = Field(min_length=1)
    type: EventType
    date: date
    toxicity: Toxicity | None = None
    response_assessment: ResponseAssessment | None = None
    weight: WeightChange | None = None
    cycle_started: CycleStarted | None = None
    retraction: Retraction | None = None

    @model_validator(mode="after")
    def _payload_matches_type(self) -> ClinicalEvent:
        for name in PAYLOAD_TYPES:
            present = getattr(self, name) is not None
            if name == self.type and not present:
                raise ValueError(f"a {self.type} event needs its '{name}' payload")
            if name != self.type and present:
                raise ValueError(f"'{name}' payload does not belong to a {self.type} event")
        return self


def effective_events(events: list[ClinicalEvent]) -> list[ClinicalEvent]:
    """The events that still count: neither retractions nor events they retracted."""
    retracted = {e.retraction.retracts for e in events if e.retraction is not None}
    return [e for e in events if e.type != "retraction" and e.event_id not in retracted]


# --------------------------------------------------------------------------------------
# The public body: one model per type.


class _EventBase(_Strict):
    event_id: Identifier
    date: IsoDate = Field(description="between the case's day of receipt and its today")

    def to_event(self) -> ClinicalEvent:
        return ClinicalEvent.model_validate(self.model_dump())


class ToxicityEvent(_EventBase):
    """A toxicity and its CTCAE grade (Section IV: grade >= 4 not met, 3 clinical review)."""

    type: Literal["toxicity"]
    toxicity: Toxicity


class ResponseAssessmentEvent(_EventBase):
    """A response assessment (Section IV: response or stabilization in the period)."""

    type: Literal["response_assessment"]
    response_assessment: ResponseAssessment


class WeightEvent(_EventBase):
    """A new weight (and height): doses of the next cycles (Section V)."""

    type: Literal["weight"]
    weight: WeightChange


class CycleStartedEvent(_EventBase):
    type: Literal["cycle_started"]
    cycle_started: CycleStarted


class LiveVaccineEvent(_EventBase):
    type: Literal["live_vaccine"]


class DiscontinuedEvent(_EventBase):
    type: Literal["discontinued"]


class DeathEvent(_EventBase):
    type: Literal["death"]


class RetractionEvent(_EventBase):
    """Withdraws an earlier event of the case as entered in error."""

    type: Literal["retraction"]
    retraction: Retraction


EventVariant = Annotated[
    ToxicityEvent
    | ResponseAssessmentEvent
    | WeightEvent
    | CycleStartedEvent
    | LiveVaccineEvent
    | DiscontinuedEvent
    | DeathEvent
    | RetractionEvent,
    Field(discriminator="type"),
]

_TYPE_MESSAGE = "Input should be one of: " + ", ".join(f"'{t}'" for t in EVENT_TYPES)


def _untagged(exc: ValidationError) -> ValidationError:
    """The union's errors named as the contract names fields: no tag, ``type`` for the tag."""
    details: list[InitErrorDetails] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        kind, message = error["type"], error["msg"]
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = ("type",)
            message = _TYPE_MESSAGE if kind == "union_tag_invalid" else "Field required"
            kind = "literal_error" if kind == "union_tag_invalid" else "missing"
        elif loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(kind, message),
                loc=loc,
                input=error.get("input"),
            )
        )
    return ValidationError.from_exception_data(exc.title, details)


class ClinicalEventBody(RootModel[EventVariant]):
    """A clinical event as sent (CONTRACT.md): ``type`` picks the payload it must carry."""

    @model_validator(mode="wrap")
    @classmethod
    def _name_fields_as_the_contract(cls, value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            raise _untagged(exc) from None

    def to_event(self) -> ClinicalEvent:
        return self.root.to_event()

    @property
    def event_id(self) -> str:
        return self.root.event_id

    @property
    def type(self) -> str:
        return self.root.type


__all__ = [
    "DISCONTINUING",
    "EVENT_TYPES",
    "PAYLOAD_TYPES",
    "RETRACTABLE",
    "ClinicalEvent",
    "ClinicalEventBody",
    "CycleStarted",
    "CycleStartedEvent",
    "DeathEvent",
    "DiscontinuedEvent",
    "EventType",
    "LiveVaccineEvent",
    "ResponseAssessment",
    "ResponseAssessmentEvent",
    "Retraction",
    "RetractionEvent",
    "Toxicity",
    "ToxicityEvent",
    "WeightChange",
    "WeightEvent",
    "effective_events",
]
