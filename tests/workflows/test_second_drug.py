"""A second drug is a second YAML file: a Testomab request is decided, counted, clocked,
notified and shown under the synthetic Testomab policy (tests/policies), beside Blincyto.

The worker serves a registry of both policies (as a deployment with both files in
domain/policies/ would); nothing else is configured for the second drug.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio

from domain.policy_registry import PolicyRegistry
from tests.synthetic_policy import TESTOMAB, TESTOMAB_NDC, TESTOMAB_REF, as_testomab, serving
from tests.synthetic_policy import two_drugs as both_policies
from workflows.authorization import AuthorizationWorkflow as W

BLINCYTO_WORDS = ("Blincyto", "blinatumomab", "J9039", "980", "42 ")


def blincyto_words(text: str, case_id: str) -> list[str]:
    """Blincyto's words and numbers in ``text``, the case's own id left out (its random
    hex may end in "42" or hold "980")."""
    text = text.replace(case_id, "").replace(case_id.removeprefix("pa-"), "")
    return [word for word in BLINCYTO_WORDS if word in text]


@pytest.fixture
def policies(monkeypatch) -> PolicyRegistry:
    return serving(monkeypatch, both_policies())


@pytest_asyncio.fixture
async def worker(time_skipping_env, db_pool, settings, task_queue, policies) -> AsyncIterator[Any]:
    from worker import build_worker

    async with build_worker(
        time_skipping_env.client, db_pool, settings, task_queue=task_queue, policies=policies
    ) as w:
        yield w


async def notice_text(db_pool, case_id: str, kind: str) -> str:
    """The notice as written to the outbox (notices go out from a task of their own)."""
    for _ in range(100):
        text = await db_pool.fetchval(
            "SELECT text FROM notifications WHERE case_id = $1 AND kind = $2", case_id, kind
        )
        if text:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} notice for {case_id}")


async def test_a_testomab_request_is_decided_under_the_testomab_policy(cases, db_pool):
    handle = await cases.start("relapsed_refractory", **as_testomab())
    await cases.to_day(0.5)

    status = await handle.query(W.status)
    assert (status.status, status.track, status.policy_ref) == (
        "active",
        "relapsed_refractory",
        TESTOMAB_REF,
    )
    # Section I and II of the synthetic policy: 84 days, 3 of 5 cycles, 500 units a cycle.
    assert (status.period_start, status.period_end) == (date(2026, 12, 3), date(2027, 2, 24))
    assert (status.total_cycles, status.units_authorized, status.max_renewals) == (5, 1500, 1)
    # Section IV of the synthetic policy: the window opens 14 days before the end.
    assert status.renewal_window_opens == date(2027, 2, 24) - timedelta(days=14)
    recorded = await db_pool.fetch(
        "SELECT policy_id, policy_version FROM decisions WHERE case_id = $1", handle.id
    )
    assert [(r["policy_id"], r["policy_version"]) for r in recorded] == [
        ("TEST-SYNTHETIC-TESTOMAB", "2026-01-01")
    ]

    notice = await notice_text(db_pool, handle.id, "approval")
    assert notice.startswith("Testomab prior authorization approved")
    assert "Units authorized (HCPCS J9999, 1 unit = 10 mcg): 1500 for the period" in notice
    assert "at most 500 in any 28 consecutive days (policy Section II)" in notice
    assert not blincyto_words(notice, handle.id)

    description = await handle.describe()
    summary = await description.static_summary() or ""
    details = await description.static_details() or ""
    assert summary.startswith("Testomab PA ")
    assert TESTOMAB in details and TESTOMAB_REF in details
    assert not blincyto_words(summary + details, handle.id)


async def test_one_member_keeps_a_window_per_drug_through_the_workflow(cases, db_pool):
    testomab = await cases.start("relapsed_refractory", **as_testomab())
    blincyto = await cases.start("relapsed_refractory")  # the same member, M-1
    await cases.to_day(2)

    full_blincyto = await blincyto.execute_update(
        W.adjudicate_claim, cases.claim("C-B1", "2026-12-03", units=980)
    )
    testomab_line = cases.claim("C-T1", "2026-12-03", units=600, hcpcs=TESTOMAB, ndc=TESTOMAB_NDC)
    capped = await testomab.execute_update(W.adjudicate_claim, testomab_line)

    assert (full_blincyto.status, full_blincyto.allowed_units) == ("paid", 980)
    # Testomab's own limit, 500 per 28 days; Blincyto's 980 units do not count against it.
    assert (capped.status, capped.allowed_units, capped.carc_codes) == (
        "partially_paid",
        500,
        ["119"],
    )
    rows = await db_pool.fetch(
        "SELECT case_id, policy_id FROM authorizations WHERE case_id = ANY($1) ORDER BY policy_id",
        [blincyto.id, testomab.id],
    )
    assert [(r["case_id"], r["policy_id"]) for r in rows] == [
        (blincyto.id, "OHSU-HEALTHSERVICES-0382"),
        (testomab.id, "TEST-SYNTHETIC-TESTOMAB"),
    ]


async def test_a_testomab_case_runs_on_the_testomab_clocks(cases, db_pool):
    handle = await cases.start(
        "relapsed_refractory", diagnosis={"relapsed_or_refractory": None}, **as_testomab()
    )
    await cases.to_day(0.5)

    status = await handle.query(W.status)
    assert (status.status, status.missing_facts) == (
        "pended",
        ["diagnosis.relapsed_or_refractory"],
    )
    # case_defaults.pend_deadline_days of the synthetic policy: 10 days after receipt
    # (2026-12-01 09:00Z, business clock); Blincyto's 14 would be 2026-12-15.
    assert status.pend_deadline is not None
    assert status.pend_deadline.date() == date(2026, 12, 11)
    notice = await notice_text(db_pool, handle.id, "pend")
    assert notice.startswith("Testomab prior authorization: information needed")
