"""Builders of activity inputs for the integration tests (valid by default, override by keyword)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from activities.models import (
    AdjudicateClaimInput,
    AuthorizationProjection,
    ClinicalEventInput,
    NotificationInput,
    PeriodTerms,
    RecordDecisionInput,
)
from domain.claim import ClaimLine
from domain.clinical_event import ClinicalEvent
from domain.decision import Decision, PolicyRef, Reason, TraceNode

RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
START = date(2026, 12, 3)
POLICY = PolicyRef(id="OHSU-HEALTHSERVICES-0382", version="2025-09-04")


def decision(determination: str = "approve", **kw: Any) -> Decision:
    fields: dict[str, Any] = {
        "request_id": "REQ-1",
        "determination": determination,
        "automated": True,
        "x12_action": {"approve": "A1", "deny": "A3", "pend": "A4"}.get(determination, "CT"),
        "track": "relapsed_refractory",
        "path": "A-RR",
        "policy": POLICY,
        "reasons": [Reason(code="criteria_met", policy_ref="III (ALL – Adult)", text="A-RR met")],
        "trace": TraceNode(
            id="root",
            verdict="met",
            children=[TraceNode(id="A0", policy_ref="III", verdict="met", fact="age", value=46)],
        ),
    }
    fields.update(kw)
    return Decision(**fields)


def decision_input(**kw: Any) -> RecordDecisionInput:
    determination = kw.pop("determination", "approve")
    fields: dict[str, Any] = {
        "decision_key": "pa-REQ-1/initial/1",
        "case_id": "pa-REQ-1",
        "request_id": "REQ-1",
        "kind": "initial",
        "determination": determination,
        "automated": True,
        "decision": kw.pop("decision") if "decision" in kw else decision(determination),
        "policy_id": POLICY.id,
        "policy_version": POLICY.version,
        "urgency": "standard",
        "line_of_business": "commercial",
        "received_at": RECEIVED,
        "decided_at": RECEIVED + timedelta(minutes=5),
    }
    fields.update(kw)
    return RecordDecisionInput(**fields)


def period(start: date = START, days: int = 210, cycles: int = 5, **kw: Any) -> PeriodTerms:
    fields: dict[str, Any] = {
        "start": start,
        "end": start + timedelta(days=days - 1),
        "cycles": cycles,
        "authorized_units": 980 * cycles,
    }
    fields.update(kw)
    return PeriodTerms(**fields)


def projection(**kw: Any) -> AuthorizationProjection:
    fields: dict[str, Any] = {
        "case_id": "pa-REQ-1",
        "request_id": "REQ-1",
        "member_ref": "m_member1",
        "version": 1,
        "status": "active",
        "track": "relapsed_refractory",
        "path": "A-RR",
        "line_of_business": "commercial",
        "urgency": "standard",
        "periods": [period()],
        "units_authorized": 4900,
        "received_at": RECEIVED,
        "updated_at": RECEIVED,
    }
    fields.update(kw)
    return AuthorizationProjection(**fields)


def clinical_event(**kw: Any) -> ClinicalEventInput:
    fields: dict[str, Any] = {
        "case_id": "pa-REQ-1",
        "member_ref": "m_member1",
        "event": ClinicalEvent(
            event_id="EV-9",
            type="toxicity",
            date=date(2027, 1, 10),
            toxicity={"kind": "crs", "grade": 3},
        ),
        "received_at": RECEIVED,
    }
    fields.update(kw)
    return ClinicalEventInput(**fields)


def claim_line(claim_id: str = "CLM-1", units: int = 35, **kw: Any) -> ClaimLine:
    fields: dict[str, Any] = {
        "claim_id": claim_id,
        "line": 1,
        "member_id": "M-1",
        "date_of_service": START,
        "hcpcs": "J9039",
        "ndc": "55513-0160-01",
        "units": units,
        "icd10_codes": ["C91.00"],
    }
    fields.update(kw)
    return ClaimLine(**fields)


def claim_input(line: ClaimLine, **kw: Any) -> AdjudicateClaimInput:
    fields: dict[str, Any] = {
        "case_id": "pa-REQ-1",
        "member_ref": "m_member1",
        "line": line,
        "periods": [period()],
    }
    fields.update(kw)
    return AdjudicateClaimInput(**fields)


def notification(key: str = "pa-REQ-1/approval/1", **kw: Any) -> NotificationInput:
    fields: dict[str, Any] = {
        "key": key,
        "case_id": "pa-REQ-1",
        "kind": "approval",
        "recipient": "prescriber:1234567893",
        "payload": {
            "period_start": "2026-12-03",
            "period_end": "2027-06-30",
            "cycles": 5,
            "authorized_units": 4900,
        },
    }
    fields.update(kw)
    return NotificationInput(**fields)
