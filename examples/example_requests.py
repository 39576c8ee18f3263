"""Example requests, one per authorization track (policy Section I), for scenarios and tests.

Plain dicts in the CONTRACT.md request format; ``request(track, ...)`` returns
one with a fresh request id and the given receipt time and requested start.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

#: The CONTRACT.md example request (an adult Ph- relapsed case), kept once as JSON.
BASE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent / "requests" / "request-approve.json").read_text()
)

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


def request(
    track: str = "relapsed_refractory",
    *,
    request_id: str = "REQ-1001",
    received_at: datetime | str = "2026-12-01T09:00:00Z",
    requested_start: date | str | None = "2026-12-03",
    member_id: str = "M-1",
    **changes: Any,
) -> dict[str, Any]:
    """A request that the policy approves on ``track``, with ``changes`` merged over it."""
    data = copy.deepcopy(BASE)
    _merge(data, copy.deepcopy(TRACKS[track]))
    data["request_id"] = request_id
    data["received_at"] = received_at if isinstance(received_at, str) else received_at.isoformat()
    start = requested_start.isoformat() if isinstance(requested_start, date) else requested_start
    data["service"]["requested_start"] = start
    data["member"]["member_id"] = member_id
    _merge(data, changes)
    return data
