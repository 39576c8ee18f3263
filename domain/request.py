"""The prior-authorization request (CONTRACT.md, "Prior-authorization request").

Every fact the criteria of Section III read is nullable: ``None`` means "not
stated" and the engine treats it as unknown, never as false. Unknown fields
are validation errors (``extra="forbid"``).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Urgency = Literal["standard", "expedited"]
LineOfBusiness = Literal["commercial", "medicaid", "medicare_advantage", "medicare_part_b"]
PhStatus = Literal["positive", "negative", "ph_like"]
Remission = Literal["first", "second", "third_or_later", "none"]
TkiStatus = Literal["responsive", "intolerant", "refractory"]
Setting = Literal[
    "mrd_positive", "frontline_induction", "consolidation", "maintenance", "relapsed_refractory"
]
Combination = Literal["tki", "multiagent_chemotherapy", "chemotherapy", "ruxolitinib"]
Regimen = Literal["pomp_alternating", "inotuzumab_mini_hyper_cvd", "cog_aall1331", "infant_regimen"]
Tki = Literal["bosutinib", "dasatinib", "imatinib", "nilotinib", "ponatinib"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Member(_Strict):
    member_id: str = Field(min_length=1)
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    state: str | None = Field(default=None, min_length=2, max_length=2)


class Prescriber(_Strict):
    npi: str | None = None
    name: str | None = None


class Service(_Strict):
    hcpcs: str | None = None
    ndc: str | None = None
    requested_start: date | None = None
    site_state: str | None = Field(default=None, min_length=2, max_length=2)
    site_county: str | None = None


class Diagnosis(_Strict):
    icd10_codes: list[str] | None = None
    b_cell_precursor: bool | None = None
    infant_all: bool | None = None
    ph_status: PhStatus | None = None
    mrd_percent: float | None = Field(default=None, ge=0, le=100)
    complete_remission: Remission | None = None
    relapsed_or_refractory: bool | None = None
    tki_status: TkiStatus | None = None


class Therapy(_Strict):
    setting: Setting | None = None
    combined_with: list[Combination] | None = None
    regimen: Regimen | None = None
    tki: Tki | None = None
    prior_blinatumomab_cycles: int | None = Field(default=None, ge=0)


class Clinical(_Strict):
    weight_kg: float | None = Field(default=None, gt=0, le=500)
    height_cm: float | None = Field(default=None, gt=0, le=300)
    live_vaccine_within_2_weeks: bool | None = None
    live_vaccine_planned: bool | None = None


class PARequest(_Strict):
    """One request for Blincyto, as CONTRACT.md fixes it."""

    # The case id is pa-<request_id> and lives in URLs and Temporal ids: printable, bounded.
    request_id: str = Field(min_length=1, max_length=253, pattern=r"^[^\x00-\x1f\x7f]+$")
    received_at: AwareDatetime
    urgency: Urgency = "standard"
    line_of_business: LineOfBusiness
    member: Member
    prescriber: Prescriber = Field(default_factory=Prescriber)
    service: Service = Field(default_factory=Service)
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    therapy: Therapy = Field(default_factory=Therapy)
    clinical: Clinical = Field(default_factory=Clinical)

    @property
    def received_on(self) -> date:
        """The calendar day of receipt, in the zone the request was sent in."""
        return self.received_at.date()

    def period_start(self) -> date:
        """Section I, "When a period starts": requested start, never before receipt."""
        start = self.service.requested_start
        received = self.received_on
        return received if start is None or start < received else start


__all__ = [
    "Clinical",
    "Combination",
    "Diagnosis",
    "LineOfBusiness",
    "Member",
    "PARequest",
    "PhStatus",
    "Prescriber",
    "Regimen",
    "Remission",
    "Service",
    "Setting",
    "Therapy",
    "Tki",
    "TkiStatus",
    "Urgency",
]
