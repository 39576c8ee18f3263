"""Example requests, one per authorization track (policy Section I), for scenarios and tests.

Plain dicts in the CONTRACT.md request format; ``request(track, ...)`` returns
one with a fresh request id and the given receipt time and requested start.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

BASE: dict[str, Any] = {
    "request_id": "REQ-1001",
    "received_at": "2026-12-01T09:00:00Z",
    "urgency": "standard",
    "line_of_business": "commercial",
    "member": {
        "member_id": "M-1",
        "first_name": "Ada",
        "last_name": "Lee",
        "date_of_birth": "1980-04-02",
        "state": "OR",
    },
    "prescriber": {"npi": "1234567893", "name": "Dr. A. Smith"},
    "service": {"hcpcs": "J9039", "ndc": "55513-0160-01", "requested_start": "2026-12-03"},
    "diagnosis": {
        "icd10_codes": ["C91.00"],
        "b_cell_precursor": True,
        "infant_all": False,
        "ph_status": "negative",
        "mrd_percent": None,
        "complete_remission": None,
        "relapsed_or_refractory": True,
        "tki_status": None,
    },
    "therapy": {
        "setting": "relapsed_refractory",
        "combined_with": [],
        "regimen": None,
        "tki": None,
        "prior_blinatumomab_cycles": 0,
    },
    "clinical": {
        "weight_kg": 72.0,
        "height_cm": 170.0,
        "live_vaccine_within_2_weeks": False,
        "live_vaccine_planned": False,
    },
}

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
