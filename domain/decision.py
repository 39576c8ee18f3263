"""The decision on a request (CONTRACT.md, "Decision").

The engine returns one ``Decision`` per evaluation: the determination, the
track and its terms (Section I, II), the dosing plan (Section V), the reasons
with their policy citations and the whole criteria tree as evaluated (the
trace a reviewer or an appeal reads).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Determination = Literal["approve", "pend", "deny", "review", "not_applicable"]
X12Action = Literal["A1", "A3", "A4", "CT"]
Population = Literal["adult", "pediatric"]
Verdict = Literal["met", "not_met", "unknown"]
Basis = Literal["flat", "bsa"]

X12_BY_DETERMINATION: dict[Determination, X12Action] = {
    "approve": "A1",
    "deny": "A3",
    "pend": "A4",
    "review": "CT",
    "not_applicable": "CT",
}


class PolicyRef(BaseModel):
    id: str
    version: str


class Authorization(BaseModel):
    """The terms of one authorization period (Section I; units: Section II)."""

    start: date
    end: date
    days: int
    cycles: int
    renewable: bool
    renewal_period_days: int | None = None
    max_renewals: int = 0
    max_units_per_42_days: int
    authorized_units: int
    first_cycle: int = 1
    kind: Literal["initial", "renewal"] = "initial"

    @property
    def last_cycle(self) -> int:
        """The number of the period's last cycle (Section I: the numbering continues)."""
        return self.first_cycle + self.cycles - 1


class DailyDose(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_day: int
    to_day: int
    mcg: int | float


class DosingCycle(BaseModel):
    """One cycle of a dosing plan (Section V). Frozen: plans are shared between decisions."""

    model_config = ConfigDict(frozen=True)

    cycle: int
    phase: str
    cycle_days: int
    treatment_days: int
    daily_doses: list[DailyDose] = Field(default_factory=list)
    basis: Basis | None = None
    dose_is_maximum: bool = False


class Dosing(BaseModel):
    """Section V: the dosing plan for the cycles of one period."""

    bsa_m2: int | float | None = None
    basis: Basis | None = None
    weight_kg: float | None = None
    cycles: list[DosingCycle] = Field(default_factory=list)


class MedicareAnswer(BaseModel):
    """Appendix 2: the Medicare Administrative Contractor for Part B."""

    jurisdiction: str
    contractor: str
    state: str | None = None


class Reason(BaseModel):
    code: str
    policy_ref: str
    text: str


class TraceNode(BaseModel):
    """One criterion as evaluated: its verdict, the fact it read and the value it saw.

    Frozen: identical subtrees are shared between decisions (see domain.criteria).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    label: str = ""
    policy_ref: str | None = None
    verdict: Verdict
    fact: str | None = None
    value: Any = None
    children: list[TraceNode] = Field(default_factory=list)
    review_note: str | None = None


class Decision(BaseModel):
    request_id: str
    determination: Determination
    automated: bool
    x12_action: X12Action
    track: str | None = None
    population: Population | None = None
    path: str | None = None
    policy: PolicyRef
    authorization: Authorization | None = None
    dosing: Dosing | None = None
    missing_facts: list[str] = Field(default_factory=list)
    medicare: MedicareAnswer | None = None
    reasons: list[Reason] = Field(default_factory=list)
    trace: TraceNode | None = None
    as_of: date | None = None
    aya_review: bool = False
