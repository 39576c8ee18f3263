"""The policy as data: the pydantic model of a ``domain/policies/*.yaml`` file.

One YAML file per policy version holds Sections I (tracks), II (units),
III (criteria tree, value lists, covered codes), IV (renewal), V (dosing),
VI (billing codes) and Appendix 2 (Medicare). Nothing here is specific to a
drug: a second drug is a second file. ``load_policy`` reads and checks a file
once and caches it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

POLICY_DIR = Path(__file__).parent / "policies"
DEFAULT_POLICY_FILE = "ohsu-healthservices-0382_2025-09-04.yaml"

LEAF_OPS = (
    "is_true",
    "is_false",
    "eq",
    "in",
    "gte",
    "gt",
    "lte",
    "lt",
    "empty",
    "contains",
    "contains_any",
    "codes_in_list",
    "age_at_least",
    "age_below",
    "prior_cycles_below",
)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PolicyInfo(_Data):
    id: str
    version: str
    effective_date: date
    drug: str
    # How notices, the UI and the timeline name the drug and the policy: every word of
    # them that is not the case's own comes from here (a second drug needs no code).
    drug_name: str  # the brand: "Blincyto"
    generic_name: str  # the substance: "blinatumomab"
    title: str
    date_reviewed: str | None = None
    date_of_origin: date | None = None
    source: str | None = None
    # The days this version decides (domain.policy_versions): from ``effective_from``
    # (else ``effective_date``) through ``effective_to`` (else until the next version).
    effective_from: date | None = None
    effective_to: date | None = None

    @model_validator(mode="after")
    def _range(self) -> PolicyInfo:
        if self.effective_to is not None and self.effective_to < self.in_effect_from:
            raise ValueError("policy.effective_to is before policy.effective_from")
        return self

    @property
    def in_effect_from(self) -> date:
        """The first day this version decides."""
        return self.effective_from or self.effective_date


class Units(_Data):
    """Section II."""

    ref: str
    hcpcs_unit_mcg: float = 1
    max_units_per_window: int
    window_days: int
    units_per_cycle: int
    counted_modifiers: list[str] = Field(default_factory=list)
    note: str | None = None


class Billing(_Data):
    """Section VI."""

    ref: str
    hcpcs: list[str]
    hcpcs_description: str | None = None
    ndc_products: list[str]
    ndc_description: str | None = None
    note: str | None = None


class CoveredCodes(_Data):
    """Appendix 1."""

    ref: str
    codes: dict[str, str]
    note: str | None = None


class ValueList(_Data):
    ref: str | None = None
    values: list[Any]
    note: str | None = None


class TrackRenewal(_Data):
    period_days: int = Field(gt=0)
    max_renewals: int = Field(ge=1)
    cycles_per_renewal: int = Field(ge=1)


class CycleGroup(_Data):
    from_: int = Field(alias="from", ge=1)
    to: int = Field(ge=1)
    phase: str
    cycle_days: int = Field(gt=0)
    note: str | None = None


class Track(_Data):
    """Section I: one authorization track."""

    label: str
    ref: str
    initial_days: int = Field(gt=0)
    initial_cycles: int = Field(ge=1)
    renewal: TrackRenewal | None = None
    total_cycles: int = Field(ge=1)
    cycles: list[CycleGroup]
    note: str | None = None

    def cycle_group(self, cycle: int) -> CycleGroup:
        for group in self.cycles:
            if group.from_ <= cycle <= group.to:
                return group
        raise KeyError(f"cycle {cycle} is not defined for this track")


class DoseStep(_Data):
    from_day: int = Field(ge=1)
    to_day: int = Field(ge=1)
    mcg: float | None = None
    mcg_per_m2: float | None = None
    max_mcg: float | None = None

    @model_validator(mode="after")
    def _one_dose_kind(self) -> DoseStep:
        if (self.mcg is None) == (self.mcg_per_m2 is None):
            raise ValueError("a dose step has exactly one of mcg or mcg_per_m2")
        return self


class DoseSchedule(_Data):
    basis: Literal["flat", "bsa"]
    dose_is_maximum: bool = False
    doses: list[DoseStep]

    @model_validator(mode="after")
    def _basis_matches_steps(self) -> DoseSchedule:
        for step in self.doses:
            if (self.basis == "bsa") != (step.mcg_per_m2 is not None):
                raise ValueError(f"a {self.basis} schedule has a step of the other kind")
        return self


class CycleRange(_Data):
    from_: int = Field(alias="from", ge=1)
    to: int = Field(ge=1)


class DosingRow(_Data):
    """Section V: one row of the dosing table (a track's cycles, by weight band)."""

    cycles: CycleRange
    treatment_days: int = Field(gt=0)
    at_or_above: DoseSchedule | None = None
    below: DoseSchedule | None = None
    any_weight: DoseSchedule | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _bands(self) -> DosingRow:
        banded = self.at_or_above is not None and self.below is not None
        if banded == (self.any_weight is not None):
            raise ValueError("a dosing row has either at_or_above + below, or any_weight")
        return self


class Dosing(_Data):
    ref: str
    weight_band_kg: float
    tracks: dict[str, list[DosingRow]]
    note: str | None = None


class ReviewIf(_Data):
    op: str
    value: Any = None
    note: str | None = None


class Criterion(_Data):
    """A node of the Section III tree: a combinator or a leaf over one fact."""

    id: str
    label: str = ""
    ref: str | None = None
    note: str | None = None
    all_: list[Criterion] | None = Field(default=None, alias="all")
    any_: list[Criterion] | None = Field(default=None, alias="any")
    not_: Criterion | None = Field(default=None, alias="not")
    fact: str | None = None
    op: str | None = None
    value: Any = None
    list_name: str | None = Field(default=None, alias="list")
    review_if: ReviewIf | None = None
    when_null: Literal["unknown", "not_met"] = "unknown"
    code: str | None = None
    universal: bool = False
    gate: str | None = None
    path: bool = False
    setting: str | None = None
    track: str | None = None
    regimen: str | None = None
    renewal: Literal["recheck", "skip"] = "recheck"

    @model_validator(mode="after")
    def _one_kind(self) -> Criterion:
        kinds = [k for k in ("all_", "any_", "not_") if getattr(self, k) is not None]
        if self.op is not None:
            kinds.append("leaf")
        if len(kinds) != 1:
            raise ValueError(f"criterion {self.id}: exactly one of all/any/not/op, got {kinds}")
        if self.op is not None:
            if self.op not in LEAF_OPS:
                raise ValueError(f"criterion {self.id}: unknown op {self.op!r}")
            if not self.fact:
                raise ValueError(f"criterion {self.id}: a leaf needs a fact")
        return self

    def children(self) -> list[Criterion]:
        if self.all_ is not None:
            return self.all_
        if self.any_ is not None:
            return self.any_
        if self.not_ is not None:
            return [self.not_]
        return []

    def walk(self) -> Iterator[Criterion]:
        yield self
        for child in self.children():
            yield from child.walk()


class NotListed(_Data):
    code: str
    ref: str
    text: str


class Outcome(_Data):
    not_listed: NotListed
    review: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None


class PriorTherapy(_Data):
    ref: str
    fact: str
    code: str
    label: str
    note: str | None = None


class EventFact(_Data):
    fact: str
    value: Any
    note: str | None = None


class ToxicityRule(_Data):
    ref: str
    kinds: list[str]
    not_met_from_grade: int
    review_from_grade: int
    note: str | None = None


class ResponseRule(_Data):
    ref: str
    fact: str
    methods: list[str]
    met: list[str]
    not_met: list[str]
    note: str | None = None


class RenewalRules(_Data):
    """Section IV."""

    ref: str
    window_days_before_end: int
    event_facts: dict[str, EventFact] = Field(default_factory=dict)
    toxicity: ToxicityRule
    response: ResponseRule
    note: str | None = None


class MacJurisdiction(_Data):
    jurisdiction: str
    numbers: str | None = None
    contractor: str
    states: list[str]
    note: str | None = None


class CountyException(_Data):
    state: str
    jurisdiction: str
    places: list[str]
    note: str | None = None


class Medicare(_Data):
    """Appendix 2."""

    ref: str
    not_applicable_lines: list[str]
    text: str
    advantage_note: str | None = None
    jurisdictions: list[MacJurisdiction]
    county_exceptions: list[CountyException] = Field(default_factory=list)


class LineOfBusinessRules(_Data):
    decision_hours: dict[str, int]
    appeal_window_days: int
    # POLICY.md, Claims run-out: days from a line's date of service to its arrival.
    timely_filing_days: int = Field(ge=0)
    human_review_of_adverse_decisions: bool
    note: str | None = None


class CaseDefaults(_Data):
    """DESIGN.md, Case statuses: the case clocks that are not per line of business.

    Settings override them only when set (worker.py's case_config)."""

    pend_deadline_days: int = Field(gt=0)
    renewal_reminder_days_before_end: list[int]


class Policy(_Data):
    """A whole policy version, as loaded from YAML and checked for consistency."""

    policy: PolicyInfo
    units: Units
    billing: Billing
    covered_icd10: CoveredCodes
    lists: dict[str, ValueList]
    tracks: dict[str, Track]
    dosing: Dosing
    criteria: Criterion
    outcome: Outcome
    prior_therapy: PriorTherapy
    renewal: RenewalRules
    medicare: Medicare
    lines_of_business: dict[str, LineOfBusinessRules]
    case_defaults: CaseDefaults

    @property
    def id(self) -> str:
        return self.policy.id

    @property
    def version(self) -> str:
        return self.policy.version

    @property
    def ref(self) -> str:
        """``policy_id@version``: what a case carries to name its policy."""
        return f"{self.policy.id}@{self.policy.version}"

    @property
    def hcpcs_unit(self) -> str:
        """Section II/VI: what one billable unit is, ``1 unit = 1 mcg``."""
        return f"1 unit = {self.units.hcpcs_unit_mcg:g} mcg"

    def timely_filing_days(self, line_of_business: str | None) -> int | None:
        """POLICY.md, Claims run-out: the line of business's timely-filing limit in days."""
        rules = self.lines_of_business.get(line_of_business or "")
        return rules.timely_filing_days if rules is not None else None

    def value_list(self, name: str) -> list[Any]:
        if name == "covered_icd10":
            return list(self.covered_icd10.codes)
        return self.lists[name].values

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        problems: list[str] = []
        seen: set[str] = set()
        for node in self.criteria.walk():
            if node.id in seen:
                problems.append(f"criterion id {node.id} is used twice")
            seen.add(node.id)
            if node.track is not None and node.track not in self.tracks:
                problems.append(f"criterion {node.id}: unknown track {node.track}")
            if node.track is not None and node.all_ is None:
                problems.append(f"criterion {node.id}: a track node must be an 'all' node")
            if node.list_name not in (None, "covered_icd10") and node.list_name not in self.lists:
                problems.append(f"criterion {node.id}: unknown list {node.list_name}")
        for name, track in self.tracks.items():
            problems.extend(_track_problems(name, track, self.dosing.tracks.get(name)))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _track_problems(name: str, track: Track, rows: list[DosingRow] | None) -> list[str]:
    problems: list[str] = []
    covered = [c for g in track.cycles for c in range(g.from_, g.to + 1)]
    if covered != list(range(1, track.total_cycles + 1)):
        problems.append(f"track {name}: cycles must number 1..{track.total_cycles}")
    renewals = track.renewal.max_renewals * track.renewal.cycles_per_renewal if track.renewal else 0
    if track.initial_cycles + renewals != track.total_cycles:
        problems.append(f"track {name}: initial + renewal cycles != total_cycles")
    initial_days = sum(track.cycle_group(c).cycle_days for c in range(1, track.initial_cycles + 1))
    if initial_days > track.initial_days:
        problems.append(f"track {name}: initial cycles do not fit the initial period")
    # Prior therapy (Section I): a grant may begin at any cycle, a renewal at any after the first.
    for group in track.cycles:
        if group.cycle_days > track.initial_days:
            problems.append(f"track {name}: cycle {group.from_} does not fit the initial period")
        if track.renewal and group.to > 1 and group.cycle_days > track.renewal.period_days:
            problems.append(f"track {name}: cycle {group.to} does not fit a renewal period")
    if not rows:
        problems.append(f"track {name}: no dosing rows (Section V)")
    else:
        dosed = sorted(c for r in rows for c in range(r.cycles.from_, r.cycles.to + 1))
        if dosed != list(range(1, track.total_cycles + 1)):
            problems.append(f"track {name}: dosing rows must cover cycles 1..{track.total_cycles}")
    return problems


def _resolve(path_or_id: str | None) -> Path:
    if path_or_id is None:
        return POLICY_DIR / DEFAULT_POLICY_FILE
    candidate = Path(path_or_id)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    wanted = path_or_id.strip().lower().replace(" ", "-")
    matches = []
    for file in sorted(POLICY_DIR.glob("*.yaml")):
        stem = file.stem.lower()
        policy_id, _, version = stem.rpartition("_")
        if wanted in (stem, policy_id, f"{policy_id}@{version}"):
            matches.append(file)
    if not matches:
        raise FileNotFoundError(f"no policy file for {path_or_id!r} in {POLICY_DIR}")
    return matches[-1]


@functools.lru_cache(maxsize=16)
def _load(path: str) -> Policy:
    with open(path, encoding="utf-8") as handle:
        return Policy.model_validate(yaml.safe_load(handle))


def load_policy(path_or_id: str | None = None) -> Policy:
    """Load a policy by file path, by id (newest version) or ``id@version``; cached.

    The default is the Blincyto policy, OHSU HEALTHSERVICES-0382 of 2025-09-04.
    """
    return _load(str(_resolve(path_or_id).resolve()))
