"""Requests for the unit tests: one valid base per path of POLICY.md, changed by dotted paths.

Built by the one request builder (examples/example_requests.py) from the CONTRACT.md
example pinned to RECEIVED and START, with a member exactly 46 on START (ages count
from here).

``request(base, **changes)`` takes dotted keys written with ``__`` (``diagnosis__ph_status``)
or a ``changes`` dict with real dotted paths. Ages: ``born(years=..., months=..., days=...)``
counts back from the period start of the base request (2026-12-03).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.facts import merge_facts
from domain.request import PARequest
from examples import example_requests

START = date(2026, 12, 3)
RECEIVED = "2026-12-01T09:00:00Z"


def born(years: int = 0, months: int = 0, days: int = 0, on: date = START) -> str:
    """A date of birth that makes the patient exactly this old on ``on`` (minus ``days``)."""
    month_index = on.month - 1 - months
    year = on.year - years + month_index // 12
    month = month_index % 12 + 1
    dob = date(year, month, on.day) + timedelta(days=days)
    return dob.isoformat()


ADULT = born(46)
CHILD = born(10)
INFANT = born(0, 3)

_NOT_RELAPSED = {"diagnosis.relapsed_or_refractory": False}

# One request per path (and branch) of POLICY.md Section III, each approved on its track.
BASES: dict[str, dict[str, Any]] = {
    "adult_rr": {},
    "adult_mrd": {
        **_NOT_RELAPSED,
        "therapy.setting": "mrd_positive",
        "diagnosis.mrd_percent": 0.5,
        "diagnosis.complete_remission": "first",
    },
    "adult_frontline": {
        **_NOT_RELAPSED,
        "therapy.setting": "frontline_induction",
        "diagnosis.ph_status": "positive",
        "therapy.combined_with": ["tki"],
        "therapy.tki": "dasatinib",
    },
    "adult_cons_ph_neg": {
        **_NOT_RELAPSED,
        "therapy.setting": "consolidation",
        "therapy.combined_with": ["multiagent_chemotherapy"],
    },
    "adult_cons_inotuzumab": {
        **_NOT_RELAPSED,
        "therapy.setting": "consolidation",
        "diagnosis.ph_status": "positive",
        "diagnosis.tki_status": "refractory",
        "therapy.regimen": "inotuzumab_mini_hyper_cvd",
    },
    "adult_cons_tki": {
        **_NOT_RELAPSED,
        "therapy.setting": "consolidation",
        "diagnosis.ph_status": "positive",
        "therapy.combined_with": ["tki"],
        "therapy.tki": "ponatinib",
    },
    "adult_maint_ph_neg": {
        **_NOT_RELAPSED,
        "therapy.setting": "maintenance",
        "therapy.regimen": "pomp_alternating",
    },
    "adult_maint_ph_pos_refractory": {
        **_NOT_RELAPSED,
        "therapy.setting": "maintenance",
        "therapy.regimen": "pomp_alternating",
        "diagnosis.ph_status": "positive",
        "diagnosis.tki_status": "refractory",
    },
    "infant_interfant": {
        **_NOT_RELAPSED,
        "member.date_of_birth": INFANT,
        "therapy.setting": "consolidation",
        "therapy.regimen": "infant_regimen",
        "diagnosis.infant_all": True,
        "clinical.weight_kg": 6.0,
        "clinical.height_cm": 62.0,
    },
    "ped_mrd": {
        **_NOT_RELAPSED,
        "member.date_of_birth": CHILD,
        "therapy.setting": "mrd_positive",
        "diagnosis.mrd_percent": 0.1,
        "diagnosis.complete_remission": "second",
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_cons_ph_pos_tki": {
        **_NOT_RELAPSED,
        "member.date_of_birth": CHILD,
        "therapy.setting": "consolidation",
        "diagnosis.ph_status": "positive",
        "therapy.combined_with": ["tki", "chemotherapy"],
        "therapy.tki": "imatinib",
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_cons_ph_neg": {
        **_NOT_RELAPSED,
        "member.date_of_birth": CHILD,
        "therapy.setting": "consolidation",
        "therapy.combined_with": ["multiagent_chemotherapy"],
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_cons_ph_like_single": {
        **_NOT_RELAPSED,
        "member.date_of_birth": CHILD,
        "therapy.setting": "consolidation",
        "diagnosis.ph_status": "ph_like",
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_cons_ph_like_chemo_tki": {
        **_NOT_RELAPSED,
        "member.date_of_birth": CHILD,
        "therapy.setting": "consolidation",
        "diagnosis.ph_status": "ph_like",
        "therapy.combined_with": ["chemotherapy", "tki"],
        "therapy.tki": "dasatinib",
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_rr_single_ph_neg": {
        "member.date_of_birth": CHILD,
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_rr_single_ph_pos_intolerant": {
        "member.date_of_birth": CHILD,
        "diagnosis.ph_status": "positive",
        "diagnosis.tki_status": "intolerant",
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_rr_aall1331": {
        "member.date_of_birth": CHILD,
        "therapy.regimen": "cog_aall1331",
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
    "ped_rr_tki": {
        "member.date_of_birth": CHILD,
        "diagnosis.ph_status": "positive",
        "diagnosis.tki_status": "responsive",
        "therapy.combined_with": ["tki"],
        "therapy.tki": "dasatinib",
        "clinical.weight_kg": 32.0,
        "clinical.height_cm": 138.0,
    },
}


def request_dict(base: str = "adult_rr", changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-like dict of a base request with dotted ``changes`` applied."""
    return example_requests.request(
        received_at=RECEIVED,
        requested_start=START,
        member={"date_of_birth": ADULT},
        paths={**BASES[base], **(changes or {})},
    )


def request(base: str = "adult_rr", changes: dict[str, Any] | None = None, **kw: Any) -> PARequest:
    """A validated request: ``base`` with ``changes`` (dotted) and ``a__b=value`` keywords."""
    dotted = {k.replace("__", "."): v for k, v in kw.items()}
    return PARequest.model_validate(request_dict(base, {**(changes or {}), **dotted}))


def with_facts(req: PARequest, facts: dict[str, Any]) -> PARequest:
    return merge_facts(req, facts)
