"""What a live case needs of its track, read from the policy data (POLICY.md, Sections I, IV).

The evaluation hands these to the case with a grant: the cycle plan (phase and
length of each cycle, numbered as Section I numbers them), the renewals and
total cycles, the renewal window, and the line of business's timely-filing
limit (POLICY.md, Claims run-out).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class CyclePlan(BaseModel):
    """One cycle of a track as Section I numbers it: its phase and length."""

    cycle: int
    phase: str
    cycle_days: int


class TrackTerms(BaseModel):
    """What a live case needs of its track (Sections I and IV), read from the policy data."""

    track: str
    renewable: bool
    max_renewals: int = 0
    cycles_per_renewal: int = 0
    renewal_period_days: int | None = None
    total_cycles: int
    renewal_window_days: int
    cycles: list[CyclePlan] = Field(default_factory=list)
    # The case's line of business's timely-filing limit (POLICY.md, Claims run-out);
    # None in terms granted before the policy data carried it.
    timely_filing_days: int | None = None
