"""The bench's workload: approvable relapsed/refractory requests and their claim lines.

Built from the CONTRACT.md example (an adult, Ph-negative, relapsed B-cell
precursor ALL on a commercial plan: approved automatically on A-RR), with a
fresh request id and member per case so no two cases share a member's ledger,
received now and starting today (the workflow's clock is the business clock).
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from domain.claim import ClaimLine
from domain.request import PARequest

CONTRACT_REQUEST: dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parents[1] / "examples" / "requests" / "request-approve.json"
    ).read_text()
)

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
    codes = request.diagnosis.icd10_codes
    assert codes is not None  # the CONTRACT.md request states its diagnosis codes
    return ClaimLine(
        claim_id=f"BC-{request.request_id}-{number}",
        line=1,
        member_id=request.member.member_id,
        date_of_service=period_start + timedelta(days=number % 28),
        hcpcs=HCPCS,
        ndc=NDC,
        units=DAILY_UNITS,
        modifiers=["JZ"],
        icd10_codes=list(codes),
    )
