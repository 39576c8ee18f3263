"""Claim lines sent to a live authorization and their answers.

CONTRACT.md, "Claim line"; POLICY.md, "Claims against an authorization";
policy Sections II (units) and VI (HCPCS, NDC).

A reversal (void) is the same line (claim id + line number) with
``reversal: true``. Its answer is ``status: "paid"`` with ``allowed_units``
equal to minus the units given back (0 when the original paid nothing), so
the sum of ``allowed_units`` over a ledger is always the units paid.

A line is read strictly (CONTRACT.md, "Strict types"; ``domain.strict``). Its
HCPCS and NDC are *not* checked here: a line for another drug is a
well-formed line the authorization does not cover, answered with a denial
(CARC 15), not refused as malformed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.strict import STRICT_MODEL, Identifier, IsoDate, JsonBool, JsonInt

ClaimStatus = Literal["paid", "partially_paid", "denied"]


class ClaimLine(BaseModel):
    model_config = STRICT_MODEL

    claim_id: Identifier
    line: JsonInt = Field(ge=1, le=9_999)
    member_id: str
    date_of_service: IsoDate
    hcpcs: str
    ndc: str | None = None
    # Bounded well inside the ledger's integer columns; a real line is at most a few vials.
    units: JsonInt = Field(ge=0, le=99_999)
    modifiers: list[str] = Field(default_factory=list)
    icd10_codes: list[str] = Field(default_factory=list)
    reversal: JsonBool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.claim_id, self.line)

    def same_content(self, other: ClaimLine) -> bool:
        """True when ``other`` is this very line sent again (a replay)."""
        return self.model_dump() == other.model_dump()


class ClaimAnswer(BaseModel):
    claim_id: str
    line: int
    status: ClaimStatus
    allowed_units: int
    denied_units: int
    carc_codes: list[str] = Field(default_factory=list)
    message: str = ""
    policy_ref: str = ""
    reversal: bool = False
