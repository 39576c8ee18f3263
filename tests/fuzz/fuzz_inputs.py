"""Hypothesis strategies for bad input: valid bodies with a few things broken.

Each body the API takes (a request, a claim line, a clinical event, each case
action) starts from a valid example with synthetic data, then gets one to
three mutations at random places: a field removed, replaced by any JSON
value, replaced by a look-alike of another JSON type (CONTRACT.md, "Strict
types": ``"35"`` for 35, ``"yes"`` or 1 for true, 0 for a date, a timestamp
for a date), or an unknown field added. ``expected_fields`` says which fields
the API must name, by validating the same JSON with the route's own model.

Generated text has no NUL characters and no unpaired surrogates: those are
refused by ``api.limits`` before validation and tested on their own.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from api.bodies import (
    AppealBody,
    ExtensionBody,
    ProvideInfoBody,
    RenewalBody,
    ReviewBody,
    WithdrawBody,
)
from api.errors import field_errors
from domain.claim import ClaimLine
from domain.clinical_event import ClinicalEventBody
from domain.request import PARequest
from examples import example_requests

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
#: Strings a lax reader would take for a number, a boolean, a date or a timestamp.
LOOK_ALIKES = [
    "", "2026-02-30", "1980-04-02", "2026-12-01T09:00:00", "J9039", "-1", "35", "35.0", "0.4",
    "yes", "no", "true", "false", "on", "1", "0", "20261201", "2026-12-01T09:00:00Z",
    "2026-12-01T09:00:00+00:00", "J9999", "55513016001", "55513-0160-01", "00000-0000-00",
    "REQ 1", "a/b", "x" * 65,
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | st.sampled_from(LOOK_ALIKES)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def request_body(request_id: str = "FUZZ-1", member_id: str = "M-FUZZ") -> dict[str, Any]:
    """The CONTRACT.md example (examples/example_requests.py), every field present."""
    return example_requests.request(request_id=request_id, member_id=member_id)


def claim_body(member_id: str = "M-FUZZ", day: str = "2026-12-04") -> dict[str, Any]:
    return {
        "claim_id": "CLM-FUZZ", "line": 1, "member_id": member_id, "date_of_service": day,
        "hcpcs": "J9039", "ndc": "55513-0160-01", "units": 35, "modifiers": ["JW"],
        "icd10_codes": ["C91.00"],
    }  # fmt: skip


EVENTS: list[dict[str, Any]] = [
    {"event_id": "EV-1", "type": "toxicity", "date": "2026-12-10",
     "toxicity": {"kind": "crs", "grade": 3}},
    {"event_id": "EV-2", "type": "response_assessment", "date": "2026-12-10",
     "response_assessment": {"result": "complete_response", "method": "bone_marrow"}},
    {"event_id": "EV-3", "type": "weight", "date": "2026-12-10",
     "weight": {"weight_kg": 70.5, "height_cm": 170.0}},
    {"event_id": "EV-4", "type": "cycle_started", "date": "2026-12-10",
     "cycle_started": {"cycle": 2}},
    {"event_id": "EV-5", "type": "live_vaccine", "date": "2026-12-10"},
    {"event_id": "EV-6", "type": "death", "date": "2026-12-10"},
    {"event_id": "EV-7", "type": "retraction", "date": "2026-12-10",
     "retraction": {"retracts": "EV-6", "reason": "entered in error"}},
]  # fmt: skip

#: route suffix -> (the route's body model, a valid body, whether no body at all is valid)
ACTIONS: dict[str, tuple[type[BaseModel], dict[str, Any], bool]] = {
    "info": (ProvideInfoBody, {"facts": {"diagnosis.mrd_percent": 0.4}}, False),
    "review": (ReviewBody, {"determination": "approve", "rationale": "meets III",
                            "track": None}, False),
    "appeal": (AppealBody, {"reason": "new evidence"}, False),
    "withdraw": (WithdrawBody, {"reason": "no longer needed"}, True),
    "renewals": (RenewalBody, {"facts": {"clinical.weight_kg": 70}}, True),
    "extensions": (ExtensionBody, {"days": 14, "rationale": "treatment paused"}, False),
}  # fmt: skip


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


def _parent(body: Any, path: tuple) -> Any:
    node = body
    for part in path[:-1]:
        node = node[part]
    return node


def look_alikes(value: Any) -> list[Any]:
    """Values of another JSON type that a lax reader would coerce into ``value``."""
    if isinstance(value, bool):
        return [str(value).lower(), "yes" if value else "no", int(value), str(int(value))]
    if isinstance(value, int):
        return [str(value), f"{value}.0", value + 0.5, bool(value)]
    if isinstance(value, float):
        return [str(value), str(int(value)), True]
    if isinstance(value, str):
        if value[:4].isdigit() and value[4:5] == "-":  # a date or a timestamp
            return [0, 1796169600, value.replace("-", ""), value[:10] + "T00:00:00",
                    value[:10], value + "\n", value[:10] + "T00:00:00Z"]  # fmt: skip
        return [value + " ", value + "/", 1, None]
    return [None]


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` with one to three fields removed, replaced, coerced or added."""
    body: Any = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "coerce", "remove", "add"]))
        if path == ():
            if action == "replace":
                body = draw(JSON)
            continue
        parent = _parent(body, path)
        if action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(TEXT)] = draw(JSON)
        elif action == "coerce":
            parent[path[-1]] = draw(st.sampled_from(look_alikes(parent[path[-1]])))
        else:
            parent[path[-1]] = draw(JSON)
    return body


def roundtrip(body: Any) -> Any:
    """What the API receives: the body through JSON."""
    return json.loads(json.dumps(body))


def expected_fields(model: type[BaseModel], body: Any) -> set[str] | None:
    """The dotted fields the route must name for ``body``, or None when it is valid."""
    try:
        model.model_validate(roundtrip(body))
    except ValidationError as exc:
        return {e.field for e in field_errors(exc.errors())}
    return None


REQUESTS = mutated(request_body())
CLAIMS = mutated(claim_body())
EVENT_BODIES = st.sampled_from(EVENTS).flatmap(mutated)


def is_field_error_body(data: Any) -> bool:
    """The API's 422 shape: an error code, a message, and field-level errors."""
    return (
        isinstance(data, dict)
        and data.get("error") == "invalid"
        and isinstance(data.get("message"), str)
        and isinstance(data.get("errors"), list)
        and len(data["errors"]) > 0
        and all(
            isinstance(e, dict)
            and isinstance(e.get("field"), str)
            and e["field"]
            and isinstance(e.get("message"), str)
            and e["message"]
            for e in data["errors"]
        )
    )


__all__ = [
    "ACTIONS",
    "CLAIMS",
    "EVENTS",
    "EVENT_BODIES",
    "JSON",
    "LOOK_ALIKES",
    "REQUESTS",
    "ClaimLine",
    "ClinicalEventBody",
    "PARequest",
    "claim_body",
    "expected_fields",
    "is_field_error_body",
    "mutated",
    "request_body",
    "roundtrip",
]
