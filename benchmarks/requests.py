"""The bench's workload: approvable relapsed/refractory requests and their claim lines.

Built from the CONTRACT.md example (an adult, Ph-negative, relapsed B-cell
precursor ALL on a commercial plan: approved automatically on A-RR), with a
fresh request id and member per case so no two cases share a member's ledger,
received now and starting today (the workflow's clock is the business clock).
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

from domain.claim import ClaimLine
from domain.request import PARequest

CONTRACT_REQUEST: dict[str, Any] = {
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
    "service": {
        "hcpcs": "J9039",
        "ndc": "55513-0160-01",
        "requested_start": "2026-12-03",
        "site_state": None,
        "site_county": None,
    },
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

HCPCS = "J9039"
NDC = "55513-0160-01"
DAILY_UNITS = 28  # 28 mcg a day (J9039 is 1 mcg a unit): within 980 units per 42 days


def bench_request(run: str, index: int, received_at: datetime, start: date) -> PARequest:
    data = copy.deepcopy(CONTRACT_REQUEST)
    data["request_id"] = f"BENCH-{run}-{index}"
    data["member"]["member_id"] = f"BM-{run}-{index}"
    data["received_at"] = received_at.isoformat()
    data["service"]["requested_start"] = start.isoformat()
    return PARequest.model_validate(data)


def claim_line(request: PARequest, number: int, period_start: date) -> ClaimLine:
    """The ``number``-th daily claim of a case: one line, one day of the first cycle."""
    return ClaimLine(
        claim_id=f"BC-{request.request_id}-{number}",
        line=1,
        member_id=request.member.member_id,
        date_of_service=period_start + timedelta(days=number % 28),
        hcpcs=HCPCS,
        ndc=NDC,
        units=DAILY_UNITS,
        modifiers=["JZ"],
        icd10_codes=list(request.diagnosis.icd10_codes),
    )
