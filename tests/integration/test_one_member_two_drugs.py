"""One member with cases on two drugs keeps two unit windows and two cycle counts.

The claims ledger and the member history are keyed by member *and* policy
(migrations/0005_keyed_by_drug.sql): Blincyto (980 units per 42 days) and the
synthetic Testomab (tests/policies: 500 units per 28 days) are counted apart,
each under its own limit and window, against a real PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.claims_ledger import ClaimsLedger
from activities.models import MemberHistoryInput
from activities.store import CaseStore
from tests.integration.case_factories import START, claim_input, claim_line, period, projection
from tests.synthetic_policy import TESTOMAB, TESTOMAB_NDC, TESTOMAB_REF, two_drugs

DAY = timedelta(days=1)
BLINCYTO_REF = "OHSU-HEALTHSERVICES-0382@2025-09-04"


@pytest.fixture
def ledger(db_pool) -> ClaimsLedger:
    return ClaimsLedger(db_pool, two_drugs())


@pytest.fixture
def store(db_pool) -> CaseStore:
    return CaseStore(db_pool, two_drugs())


def on_blincyto(claim_id: str, units: int, day: int = 0):
    return claim_input(
        claim_line(claim_id, units=units, date_of_service=START + day * DAY),
        case_id="pa-BLIN",
        policy_ref=BLINCYTO_REF,
    )


def on_testomab(claim_id: str, units: int, day: int = 0):
    line = claim_line(
        claim_id, units=units, date_of_service=START + day * DAY, hcpcs=TESTOMAB, ndc=TESTOMAB_NDC
    )
    return claim_input(
        line,
        case_id="pa-TEST",
        policy_ref=TESTOMAB_REF,
        periods=[period(days=84, cycles=3, authorized_units=1500)],
    )


async def test_a_full_blincyto_window_leaves_the_testomab_window_untouched(ledger, db_pool):
    full = await ledger.adjudicate_claim(on_blincyto("CLM-B1", 980))

    other_drug = await ledger.adjudicate_claim(on_testomab("CLM-T1", 500))

    assert (full.status, full.allowed_units) == ("paid", 980)
    assert (other_drug.status, other_drug.allowed_units) == ("paid", 500)
    rows = await db_pool.fetch(
        "SELECT policy_id, sum(allowed_units)::int AS units FROM claim_lines "
        "WHERE member_ref = 'm_member1' GROUP BY policy_id ORDER BY policy_id"
    )
    assert [(r["policy_id"], r["units"]) for r in rows] == [
        ("OHSU-HEALTHSERVICES-0382", 980),
        ("TEST-SYNTHETIC-TESTOMAB", 500),
    ]


async def test_each_drug_is_held_to_its_own_limit_and_window(ledger):
    await ledger.adjudicate_claim(on_blincyto("CLM-B1", 980))
    await ledger.adjudicate_claim(on_testomab("CLM-T1", 400))

    # Testomab: 500 per 28 days, whatever Blincyto paid.
    over = await ledger.adjudicate_claim(on_testomab("CLM-T2", 200, day=10))
    # Day 38: days 0 and 10 are outside Testomab's 28-day window, day 0 is inside
    # Blincyto's 42-day one.
    testomab_next_window = await ledger.adjudicate_claim(on_testomab("CLM-T3", 500, day=38))
    blincyto_same_day = await ledger.adjudicate_claim(on_blincyto("CLM-B2", 1, day=38))

    assert (over.status, over.allowed_units, over.carc_codes) == ("partially_paid", 100, ["119"])
    assert (testomab_next_window.status, testomab_next_window.allowed_units) == ("paid", 500)
    assert (blincyto_same_day.status, blincyto_same_day.carc_codes) == ("denied", ["119"])


async def test_a_line_of_a_case_without_a_ref_counts_as_blincyto(ledger):
    """Cases started before cases named their policy are Blincyto's."""
    await ledger.adjudicate_claim(on_blincyto("CLM-B1", 900))
    legacy = on_blincyto("CLM-B2", 200, day=1).model_copy(update={"policy_ref": None})

    answer = await ledger.adjudicate_claim(legacy)

    assert (answer.allowed_units, answer.carc_codes) == (80, ["119"])


async def test_prior_cycles_are_counted_per_drug(store, db_pool):
    await store.project_authorization(
        projection(case_id="pa-BLIN", cycles_started=4, policy_ref=BLINCYTO_REF)
    )
    await store.project_authorization(
        projection(case_id="pa-TEST", cycles_started=2, policy_ref=TESTOMAB_REF)
    )

    blincyto_history = await store.member_history(
        MemberHistoryInput(member_ref="m_member1", exclude_case_id="pa-NEW", policy_ref=None)
    )
    testomab_history = await store.member_history(
        MemberHistoryInput(
            member_ref="m_member1", exclude_case_id="pa-NEW", policy_ref=TESTOMAB_REF
        )
    )

    assert (blincyto_history.prior_cycles, testomab_history.prior_cycles) == (4, 2)
    rows = await db_pool.fetch("SELECT case_id, policy_id FROM authorizations ORDER BY case_id")
    assert [(r["case_id"], r["policy_id"]) for r in rows] == [
        ("pa-BLIN", "OHSU-HEALTHSERVICES-0382"),
        ("pa-TEST", "TEST-SYNTHETIC-TESTOMAB"),
    ]


async def test_an_unknown_policy_ref_is_a_non_retryable_error(ledger, store):
    from temporalio.exceptions import ApplicationError

    bad = on_blincyto("CLM-B1", 1).model_copy(update={"policy_ref": "NOPE@1"})
    with pytest.raises(ApplicationError) as caught:
        await ledger.adjudicate_claim(bad)
    assert caught.value.non_retryable

    with pytest.raises(ApplicationError):
        await store.member_history(MemberHistoryInput(member_ref="m", policy_ref="NOPE@1"))
