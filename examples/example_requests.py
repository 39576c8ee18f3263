"""The one builder of requests, for the tests, the demo, the bench and the scenarios.

Every request starts from a CONTRACT.md example kept here as JSON
(``requests/request-approve.json`` unless another is named: ``request-pend.json``,
``request-review.json``), changed for one authorization track (policy Section
I) and then by the caller. ``request(track, ...)`` returns a plain dict in the
CONTRACT.md request format with the given request id, member, receipt time
and requested start; ``changes`` are merged over it (nested dicts merge), and
``paths`` set single fields by dotted path (``{"diagnosis.mrd_percent": 0.5}``).
``parequest(...)`` is the same, validated.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from domain.request import PARequest

REQUESTS = Path(__file__).resolve().parent / "requests"
CONTRACT_EXAMPLE = "request-approve.json"


def example(name: str = CONTRACT_EXAMPLE) -> dict[str, Any]:
    """One of the CONTRACT.md examples kept in ``examples/requests/``, as a fresh dict."""
    data: dict[str, Any] = json.loads((REQUESTS / name).read_text())
    return data


#: The CONTRACT.md example request (an adult Ph- relapsed case), kept once as JSON.
BASE: dict[str, Any] = example()

# What each track changes in the base request (an adult Ph- relapsed case).
TRACKS: dict[str, dict[str, Any]] = {
    "relapsed_refractory": {},
    "relapsed_refractory_aall1331": {
        "member": {"date_of_birth": "2016-05-10"},
        "therapy": {"regimen": "cog_aall1331"},
        "clinical": {"weight_kg": 30.0, "height_cm": 135.0},
    },
    "frontline_induction": {
        "diagnosis": {"ph_status": "positive", "relapsed_or_refractory": False},
        "therapy": {"setting": "frontline_induction", "combined_with": ["tki"], "tki": "dasatinib"},
    },
    "consolidation": {
        "diagnosis": {"relapsed_or_refractory": False, "complete_remission": "first"},
        "therapy": {"setting": "consolidation", "combined_with": ["multiagent_chemotherapy"]},
    },
    "mrd_positive": {
        "diagnosis": {
            "relapsed_or_refractory": False,
            "mrd_percent": 0.5,
            "complete_remission": "first",
        },
        "therapy": {"setting": "mrd_positive"},
    },
    "maintenance": {
        "diagnosis": {"relapsed_or_refractory": False, "complete_remission": "first"},
        "therapy": {"setting": "maintenance", "regimen": "pomp_alternating"},
    },
    "infant_interfant": {
        "member": {"date_of_birth": "2026-07-01"},
        "diagnosis": {"infant_all": True, "relapsed_or_refractory": False},
        "therapy": {"setting": "consolidation", "regimen": "infant_regimen"},
        "clinical": {"weight_kg": 7.5, "height_cm": 66.0},
    },
}


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the field at a dotted path (``diagnosis.mrd_percent``) of a request dict."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value


def request(
    track: str = "relapsed_refractory",
    *,
    example_file: str = CONTRACT_EXAMPLE,
    request_id: str = "REQ-1001",
    received_at: datetime | str = "2026-12-01T09:00:00Z",
    requested_start: date | str | None = "2026-12-03",
    member_id: str = "M-1",
    paths: dict[str, Any] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """A request that the policy approves on ``track`` (from the CONTRACT.md example, or
    ``example_file`` as it is), with ``changes`` merged over it and ``paths`` set."""
    data = example(example_file)
    if example_file == CONTRACT_EXAMPLE:
        _merge(data, copy.deepcopy(TRACKS[track]))
    data["request_id"] = request_id
    data["received_at"] = received_at if isinstance(received_at, str) else received_at.isoformat()
    start = requested_start.isoformat() if isinstance(requested_start, date) else requested_start
    data["service"]["requested_start"] = start
    data["member"]["member_id"] = member_id
    _merge(data, copy.deepcopy(changes))
    for path, value in (paths or {}).items():
        set_path(data, path, copy.deepcopy(value))
    return data


def parequest(track: str = "relapsed_refractory", **kw: Any) -> PARequest:
    """``request(...)``, validated (CONTRACT.md's strict rules)."""
    return PARequest.model_validate(request(track, **kw))
