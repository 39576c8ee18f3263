"""Policy references and reasons as the case records and sends them.

The sections cited in the case's log and notices (POLICY.md: Section I
authorization tracks, Section II units, Section IV renewal, Decision clocks and appeals, Claims
run-out; CONTRACT.md, Clinical event, for event dates and retractions) and the
engine's reasons as notice payloads.
"""

from __future__ import annotations

from typing import Any

from domain.decision import Reason

REF_PERIOD = "I"
REF_UNITS = "II"
REF_RENEWAL = "IV"
REF_CLOCKS = "Decision clocks and appeals"
REF_RUN_OUT = "Claims against an authorization (claims run-out)"
REF_EVENTS = "CONTRACT.md, Clinical event"
REF_CRITERIA = "III"
REF_MEDICARE = "Appendix 2"
REF_STATUS = "CONTRACT.md, Case status"


def reason_payloads(reasons: list[Reason]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in reasons]


def first_reason(reasons: list[Reason], default: str) -> str:
    return reasons[0].text if reasons else default
