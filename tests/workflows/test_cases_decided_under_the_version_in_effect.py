"""Versions in effect, through a case (issue #17): a request is decided under the version
of its drug's policy in effect on its day of receipt, a renewal under the one in effect on
the renewal request's day; every decision row and the case record name the version used.

The worker serves a registry of two Blincyto versions side by side (as two files in
domain/policies/ would): the current file (from 2025-09-04) and next month's
(tests/unit/policy_drafts.py ``next_version``: from 2027-01-01, the adult MRD threshold
0.1% -> 0.5% and the relapsed/refractory renewal period 168 -> 126 days). The example
requests are received 2026-12-01.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio

from domain.clinical_event import ClinicalEvent
from domain.policy_registry import PolicyRegistry
from tests.synthetic_policy import serving
from tests.unit.policy_drafts import CURRENT, next_version, write
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import RenewalRequestInput

POLICY_ID = "OHSU-HEALTHSERVICES-0382"
CURRENT_VERSION, NEXT_VERSION = "2025-09-04", "2027-01-01"
NEXT_EFFECTIVE = date(2027, 1, 1)
MRD_BETWEEN = {"diagnosis.mrd_percent": 0.3}  # met at >= 0.1%, not at >= 0.5%
# relapsed_refractory from 2026-12-03: the period ends 2027-06-30 (day 211), the renewal
# window opens 2027-05-31 (day 181).
WINDOW_DAY = 181


@pytest.fixture
def policies(monkeypatch, tmp_path) -> PolicyRegistry:
    new = write(tmp_path, next_version(NEXT_EFFECTIVE), "blincyto_2027-01-01.yaml")
    return serving(monkeypatch, PolicyRegistry.from_files([CURRENT, new]))


@pytest_asyncio.fixture
async def worker(time_skipping_env, db_pool, settings, task_queue, policies) -> AsyncIterator[Any]:
    from worker import build_worker

    async with build_worker(
        time_skipping_env.client, db_pool, settings, task_queue=task_queue, policies=policies
    ) as w:
        yield w


async def decision_versions(db_pool, case_id: str) -> list[tuple[str, str, str]]:
    rows = await db_pool.fetch(
        "SELECT kind, policy_id, policy_version FROM decisions WHERE case_id = $1 ORDER BY id",
        case_id,
    )
    return [(r["kind"], r["policy_id"], r["policy_version"]) for r in rows]


async def case_record_version(db_pool, case_id: str, expected: str) -> tuple[str, str]:
    """The case record's policy and version, once its latest projection has landed."""
    row = None
    for _ in range(100):
        row = await db_pool.fetchrow(
            "SELECT policy_id, policy_version FROM authorizations WHERE case_id = $1", case_id
        )
        if row is not None and row["policy_version"] == expected:
            break
        await asyncio.sleep(0.1)
    assert row is not None, f"no case record for {case_id}"
    return row["policy_id"], row["policy_version"]


async def test_a_request_is_decided_under_the_version_in_effect_on_its_day_of_receipt(
    cases, db_pool
):
    today = await cases.start("mrd_positive", member_id="M-V1", paths=MRD_BETWEEN)
    on_the_day = await cases.start(
        "mrd_positive",
        member_id="M-V2",
        received_at="2027-01-01T09:00:00Z",
        requested_start="2027-01-03",
        paths=MRD_BETWEEN,
    )
    await cases.to_day(0.5)

    current = await today.query(W.status)
    assert (current.status, current.track) == ("active", "mrd_positive")
    assert current.policy_ref == f"{POLICY_ID}@{CURRENT_VERSION}"
    assert await decision_versions(db_pool, today.id) == [("initial", POLICY_ID, CURRENT_VERSION)]
    assert await case_record_version(db_pool, today.id, CURRENT_VERSION) == (
        POLICY_ID,
        CURRENT_VERSION,
    )

    # The same facts received on the new version's first day: 0.3% is below its 0.5%.
    new = await on_the_day.query(W.status)
    assert new.policy_ref == f"{POLICY_ID}@{NEXT_VERSION}"
    assert (new.status, new.review_kind) == ("in_review", "initial")
    assert await decision_versions(db_pool, on_the_day.id) == [("initial", POLICY_ID, NEXT_VERSION)]
    reasons = await db_pool.fetchval(
        "SELECT reasons::text FROM decisions WHERE case_id = $1", on_the_day.id
    )
    assert "A-MRD-1" in reasons
    assert await case_record_version(db_pool, on_the_day.id, NEXT_VERSION) == (
        POLICY_ID,
        NEXT_VERSION,
    )


async def test_a_renewal_after_the_effective_date_is_decided_under_the_new_version(cases, db_pool):
    handle = await cases.start("relapsed_refractory", member_id="M-RENEW")
    await cases.to_day(0.5)
    first = await handle.query(W.status)
    assert first.policy_ref == f"{POLICY_ID}@{CURRENT_VERSION}"
    assert (first.period_start, first.period_end) == (date(2026, 12, 3), date(2027, 6, 30))

    await cases.to_day(150)
    await handle.signal(
        W.clinical_event,
        ClinicalEvent.model_validate(
            {
                "event_id": "EV-R",
                "type": "response_assessment",
                "date": "2027-04-29",
                "response_assessment": {"result": "complete_response", "method": "bone_marrow"},
            }
        ),
    )
    await cases.to_day(WINDOW_DAY + 1)  # 2027-06-01: the new version is in effect
    outcome = await handle.execute_update(W.request_renewal, RenewalRequestInput(facts={}))

    assert (outcome.accepted, outcome.determination) == (True, "approve")
    # The new version's renewal period (126 days), not the case's first version's (168).
    assert outcome.period is not None
    assert (outcome.period.start, outcome.period.end) == (
        date(2027, 7, 1),
        date(2027, 7, 1) + timedelta(days=125),
    )
    assert await decision_versions(db_pool, handle.id) == [
        ("initial", POLICY_ID, CURRENT_VERSION),
        ("renewal", POLICY_ID, NEXT_VERSION),
    ]
    # The case runs under the renewal's version for the new period (after continue-as-new).
    await cases.to_day(WINDOW_DAY + 1.5)
    status = await handle.query(W.status)
    assert status.policy_ref == f"{POLICY_ID}@{NEXT_VERSION}"
    assert await case_record_version(db_pool, handle.id, NEXT_VERSION) == (
        POLICY_ID,
        NEXT_VERSION,
    )
