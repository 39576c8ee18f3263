"""The prior-authorization request (CONTRACT.md, "Prior-authorization request").

Every fact the criteria of Section III read is nullable: ``None`` means "not
stated" and the engine treats it as unknown, never as false. Unknown fields
are validation errors (``extra="forbid"``), and every value is read strictly
(CONTRACT.md, "Strict types"; ``domain.strict``).

The drug is not a fact but what is asked for: ``service.hcpcs`` is required
and must be a drug some policy in ``domain/policies`` covers, and
``service.ndc``, when given, one of that drug's NDCs (CONTRACT.md; each
policy's Section VI, ``domain.coverage``). A request that does not name the
drug cannot be matched to a policy, so it is refused rather than pended.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from domain.coverage import (
    all_ndc_products,
    covered_hcpcs,
    ndc_matches,
    ndc_pattern,
    ndc_products_of,
)
from domain.strict import (
    STRICT_MODEL,
    Identifier,
    IsoDate,
    JsonBool,
    JsonInt,
    JsonNumber,
    ZonedTimestamp,
    recorded,
)

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
    model_config = STRICT_MODEL


def _covered_hcpcs(code: str | None, info: ValidationInfo) -> str | None:
    if recorded(info):
        return code  # a running case keeps the drug it was accepted for
    if code is None:
        raise PydanticCustomError(
            "hcpcs_required", "a request names its drug: HCPCS {covered}", _covered()
        )
    if code not in covered_hcpcs():
        raise PydanticCustomError(
            "hcpcs_not_covered", "no policy covers this drug: HCPCS must be {covered}", _covered()
        )
    return code


def _covered() -> dict[str, str]:
    return {"covered": " or ".join(covered_hcpcs())}


def _known_ndc(ndc: str, info: ValidationInfo) -> str:
    if recorded(info) or ndc_matches(ndc, all_ndc_products()):
        return ndc
    raise PydanticCustomError(
        "ndc_not_covered",
        "no policy covers this NDC: it must be one of {products} with a two-digit "
        "package code, written 55513-0160-01 or as 11 digits",
        {"products": ", ".join(f"{p}-xx" for p in all_ndc_products())},
    )


#: The drugs the policies cover (their Section VI), stated in the schema too. Required,
#: and null is refused: without its drug a request cannot be matched to a policy.
Hcpcs = Annotated[
    str | None,
    AfterValidator(_covered_hcpcs),
    WithJsonSchema({"type": "string", "enum": list(covered_hcpcs())}),
]
Ndc = Annotated[
    str,
    AfterValidator(_known_ndc),
    WithJsonSchema({"type": "string", "pattern": ndc_pattern(all_ndc_products())}),
]


class Member(_Strict):
    member_id: str = Field(min_length=1)
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: IsoDate | None = None
    state: str | None = Field(default=None, min_length=2, max_length=2)


class Prescriber(_Strict):
    npi: str | None = None
    name: str | None = None


class Service(_Strict):
    hcpcs: Hcpcs = Field(description="the drug requested: a HCPCS code some policy covers")
    ndc: Ndc | None = Field(default=None, description="one of that drug's NDCs, when given")
    requested_start: IsoDate | None = None
    site_state: str | None = Field(default=None, min_length=2, max_length=2)
    site_county: str | None = None

    @field_validator("ndc")
    @classmethod
    def _ndc_of_the_drug(cls, ndc: str | None, info: ValidationInfo) -> str | None:
        """With several policies, the NDC must belong to the HCPCS code's own drug."""
        hcpcs = info.data.get("hcpcs")
        if recorded(info) or ndc is None or hcpcs is None:
            return ndc
        if not ndc_matches(ndc, ndc_products_of(hcpcs)):
            raise PydanticCustomError(
                "ndc_not_of_drug", "this NDC is not one of the requested drug's (service.hcpcs)"
            )
        return ndc


class Diagnosis(_Strict):
    icd10_codes: list[str] | None = None
    b_cell_precursor: JsonBool | None = None
    infant_all: JsonBool | None = None
    ph_status: PhStatus | None = None
    mrd_percent: JsonNumber | None = Field(default=None, ge=0, le=100)
    complete_remission: Remission | None = None
    relapsed_or_refractory: JsonBool | None = None
    tki_status: TkiStatus | None = None


class Therapy(_Strict):
    setting: Setting | None = None
    combined_with: list[Combination] | None = None
    regimen: Regimen | None = None
    tki: Tki | None = None
    prior_blinatumomab_cycles: JsonInt | None = Field(default=None, ge=0)


class Clinical(_Strict):
    weight_kg: JsonNumber | None = Field(default=None, gt=0, le=500)
    height_cm: JsonNumber | None = Field(default=None, gt=0, le=300)
    live_vaccine_within_2_weeks: JsonBool | None = None
    live_vaccine_planned: JsonBool | None = None


class PARequest(_Strict):
    """One request for a drug some policy covers, as CONTRACT.md fixes it."""

    # The case id is pa-<request_id> and lives in URLs and Temporal ids.
    request_id: Identifier
    received_at: ZonedTimestamp
    urgency: Urgency = "standard"
    line_of_business: LineOfBusiness
    member: Member
    prescriber: Prescriber = Field(default_factory=Prescriber)
    service: Service
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
