"""The claims ledger against a real PostgreSQL (POLICY.md Section II; Claims)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from activities.claims_ledger import ClaimsLedger
from activities.store import CaseStore
from domain.policy_registry import default_registry
from tests.integration.case_factories import START, claim_input, claim_line, period, projection

DAY = timedelta(days=1)


@pytest.fixture
def ledger(db_pool) -> ClaimsLedger:
    return ClaimsLedger(db_pool, default_registry())


async def _paid(pool, member_ref="m_member1") -> int:
    return await pool.fetchval(
        "SELECT COALESCE(sum(allowed_units), 0) FROM claim_lines WHERE member_ref = $1",
        member_ref,
    )


async def test_a_line_within_every_limit_is_paid_and_recorded(ledger, db_pool):
    answer = await ledger.adjudicate_claim(claim_input(claim_line(units=35)))

    assert (answer.status, answer.allowed_units, answer.denied_units) == ("paid", 35, 0)
    row = await db_pool.fetchrow("SELECT * FROM claim_lines")
    assert (row["claim_id"], row["line"], row["case_id"], row["status"]) == (
        "CLM-1",
        1,
        "pa-REQ-1",
        "paid",
    )
    assert (row["units"], row["allowed_units"], row["denied_units"]) == (35, 35, 0)
    assert row["answer"]["status"] == "paid"
    assert row["line_json"]["ndc"] == "55513-0160-01"


async def test_ledger_keeps_the_member_ref_and_not_the_member_id(ledger, db_pool):
    await ledger.adjudicate_claim(claim_input(claim_line(member_id="MEMBER-7731")))

    row = await db_pool.fetchrow("SELECT member_ref, line_json FROM claim_lines")
    assert row["member_ref"] == "m_member1"
    assert "MEMBER-7731" not in str(row["line_json"])


async def test_repeated_claim_line_returns_the_first_answer_and_counts_once(ledger, db_pool):
    inp = claim_input(claim_line(units=700))

    answers = [await ledger.adjudicate_claim(inp) for _ in range(3)]

    assert answers[0] == answers[1] == answers[2]
    assert answers[0].allowed_units == 700
    assert await db_pool.fetchval("SELECT count(*) FROM claim_lines") == 1
    assert await _paid(db_pool) == 700


async def test_same_claim_line_with_different_content_is_denied_carc_16_and_changes_nothing(
    ledger, db_pool
):
    await ledger.adjudicate_claim(claim_input(claim_line(units=35)))
    changed = claim_input(claim_line(units=70))

    answers = [await ledger.adjudicate_claim(changed) for _ in range(2)]

    assert [(a.status, a.allowed_units, a.carc_codes) for a in answers] == [
        ("denied", 0, ["16"]),
        ("denied", 0, ["16"]),
    ]
    assert answers[0].denied_units == 70
    assert await _paid(db_pool) == 35
    assert await db_pool.fetchval("SELECT count(*) FROM claim_lines") == 1
    rejected = await db_pool.fetch("SELECT claim_id, answer FROM claim_line_rejections")
    assert [(r["claim_id"], r["answer"]["carc_codes"]) for r in rejected] == [("CLM-1", ["16"])]


async def test_a_denied_line_is_recorded_with_its_reason(ledger, db_pool):
    answer = await ledger.adjudicate_claim(claim_input(claim_line(hcpcs="J9999")))

    assert (answer.status, answer.carc_codes) == ("denied", ["15"])
    row = await db_pool.fetchrow("SELECT status, allowed_units, carc_codes FROM claim_lines")
    assert (row["status"], row["allowed_units"], row["carc_codes"]) == ("denied", 0, ["15"])


async def test_units_over_980_in_42_days_across_the_members_cases_are_denied_carc_119(ledger):
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=900), case_id="pa-A"))

    answer = await ledger.adjudicate_claim(
        claim_input(
            claim_line("CLM-B", units=200, date_of_service=START + 10 * DAY), case_id="pa-B"
        )
    )

    assert (answer.status, answer.allowed_units, answer.denied_units) == ("partially_paid", 80, 120)
    assert answer.carc_codes == ["119"]


async def test_units_of_another_member_do_not_count(ledger):
    await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-A", units=980), case_id="pa-X", member_ref="m_other")
    )

    answer = await ledger.adjudicate_claim(claim_input(claim_line("CLM-B", units=980)))

    assert (answer.status, answer.allowed_units) == ("paid", 980)


async def test_units_42_days_apart_are_in_different_windows(ledger):
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=980)))

    later = await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-B", units=980, date_of_service=START + 42 * DAY))
    )
    inside = await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-C", units=1, date_of_service=START + 41 * DAY))
    )

    assert (later.status, later.allowed_units) == ("paid", 980)
    assert (inside.status, inside.carc_codes) == ("denied", ["119"])


async def test_units_paid_later_in_the_window_count_against_an_earlier_date_of_service(ledger):
    await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-A", units=950, date_of_service=START + 41 * DAY))
    )

    answer = await ledger.adjudicate_claim(claim_input(claim_line("CLM-B", units=100)))

    assert (answer.allowed_units, answer.denied_units, answer.carc_codes) == (30, 70, ["119"])


async def test_units_over_the_periods_authorized_total_are_denied_carc_198(ledger):
    terms = [period(cycles=1, authorized_units=980)]
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=700), periods=terms))

    answer = await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-B", units=700, date_of_service=START + 60 * DAY), periods=terms)
    )

    assert (answer.status, answer.allowed_units, answer.denied_units) == (
        "partially_paid",
        280,
        420,
    )
    assert answer.carc_codes == ["198"]


async def test_period_totals_count_only_this_cases_lines(ledger):
    terms = [period(cycles=1, authorized_units=980)]
    await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-A", units=700), case_id="pa-OLD", periods=terms)
    )

    answer = await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-B", units=700, date_of_service=START + 60 * DAY), periods=terms)
    )

    assert (answer.status, answer.allowed_units) == ("paid", 700)


async def test_a_date_of_service_outside_every_period_is_denied_carc_197(ledger):
    answer = await ledger.adjudicate_claim(claim_input(claim_line(date_of_service=START - DAY)))

    assert (answer.status, answer.carc_codes) == ("denied", ["197"])


async def test_service_after_a_reported_death_is_denied_carc_13(ledger):
    answer = await ledger.adjudicate_claim(
        claim_input(claim_line(date_of_service=START + 5 * DAY), death_date=START + DAY)
    )

    assert answer.carc_codes == ["13"]


async def test_service_after_discontinuation_is_denied_carc_197(ledger):
    answer = await ledger.adjudicate_claim(
        claim_input(claim_line(date_of_service=START + 5 * DAY), discontinued_date=START + DAY)
    )

    assert answer.carc_codes == ["197"]


@pytest.mark.parametrize(
    ("line_of_business", "limit", "carc"),
    [
        ("commercial", None, ["29"]),  # the policy data's 180 days
        ("medicaid", None, []),  # the policy data's 365 days
        ("medicaid", 30, ["29"]),  # the case's limit (a setting) wins over the data
        (None, None, []),  # no line of business, no limit: nothing is late
    ],
    ids=["commercial-data", "medicaid-data", "case-limit", "no-limit"],
)
async def test_a_line_received_after_the_timely_filing_limit_is_denied_carc_29(
    ledger, db_pool, line_of_business, limit, carc
):
    inp = claim_input(
        claim_line(),
        received_on=START + 200 * DAY,
        line_of_business=line_of_business,
        timely_filing_days=limit,
    )

    answer = await ledger.adjudicate_claim(inp)

    assert answer.carc_codes == carc
    assert await _paid(db_pool) == (0 if carc else 35)


async def test_service_on_or_after_a_withdrawal_is_denied_carc_197(ledger):
    inp = claim_input(claim_line(date_of_service=START + DAY), withdrawn_on=START + DAY)

    assert (await ledger.adjudicate_claim(inp)).carc_codes == ["197"]


async def test_a_reversal_gives_the_units_back_once(ledger, db_pool):
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=980)))
    void = claim_input(claim_line("CLM-A", units=980, reversal=True))

    reversals = [await ledger.adjudicate_claim(void) for _ in range(2)]
    again = await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-B", units=980, date_of_service=START + DAY))
    )

    assert reversals[0] == reversals[1]
    assert (reversals[0].allowed_units, reversals[0].reversal) == (-980, True)
    assert (again.status, again.allowed_units) == ("paid", 980)
    assert await db_pool.fetchval("SELECT count(*) FROM claim_lines WHERE reversal") == 1
    assert await _paid(db_pool) == 980


async def test_a_reversal_of_a_partly_paid_line_gives_back_only_what_was_paid(ledger, db_pool):
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=900)))
    await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-B", units=200, date_of_service=START + DAY))
    )

    void = await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-B", units=200, date_of_service=START + DAY, reversal=True))
    )

    assert void.allowed_units == -80
    assert await _paid(db_pool) == 900


async def _warm(pool) -> None:
    """Open every connection of the pool first, so the claims below really overlap."""

    async def hold():
        async with pool.acquire():
            await asyncio.sleep(0.05)

    await asyncio.gather(*(hold() for _ in range(pool.get_max_size())))


async def test_two_concurrent_claims_cannot_both_take_the_last_units(ledger, db_pool):
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-0", units=900), case_id="pa-A"))
    await _warm(db_pool)
    claims = [
        claim_input(
            claim_line(f"CLM-{n}", units=80, date_of_service=START + (n % 30) * DAY),
            case_id=f"pa-{n % 2}",
        )
        for n in range(1, 41)
    ]

    answers = await asyncio.gather(*(ledger.adjudicate_claim(c) for c in claims))

    assert sum(a.allowed_units for a in answers) == 80
    assert sorted(a.status for a in answers) == ["denied"] * 39 + ["paid"]
    assert await _paid(db_pool) == 980


async def test_the_same_line_sent_twice_at_once_is_counted_once(ledger, db_pool):
    inp = claim_input(claim_line(units=500))
    await _warm(db_pool)

    first, second = await asyncio.gather(ledger.adjudicate_claim(inp), ledger.adjudicate_claim(inp))

    assert first == second
    assert await _paid(db_pool) == 500


async def test_a_reversal_without_its_line_is_refused_and_leaves_the_line_payable(ledger, db_pool):
    void = await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=980, reversal=True)))
    line = await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=980)))

    assert (void.status, void.carc_codes) == ("denied", ["16"])
    assert (line.status, line.allowed_units) == ("paid", 980)
    assert await db_pool.fetchval("SELECT count(*) FROM claim_lines WHERE reversal") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM claim_line_rejections") == 1


async def test_a_line_resent_after_its_reversal_is_refused_carc_16(ledger, db_pool):
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=500)))
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=500, reversal=True)))

    again = await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=500)))

    assert (again.status, again.allowed_units, again.carc_codes) == ("denied", 0, ["16"])
    assert await _paid(db_pool) == 0


async def test_a_claim_line_already_used_by_another_member_is_refused_carc_16(ledger, db_pool):
    await ledger.adjudicate_claim(
        claim_input(claim_line("CLM-A"), case_id="pa-X", member_ref="m_other")
    )

    answer = await ledger.adjudicate_claim(claim_input(claim_line("CLM-A")))

    assert answer.carc_codes == ["16"]
    assert await _paid(db_pool, "m_member1") == 0


async def test_after_any_claim_scenario_the_ledger_alone_gives_every_answer(ledger, db_pool):
    answers = [
        await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=900))),
        await ledger.adjudicate_claim(
            claim_input(claim_line("CLM-B", units=200, date_of_service=START + DAY))
        ),
        await ledger.adjudicate_claim(claim_input(claim_line("CLM-B", units=201))),
        await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=900, reversal=True))),
    ]

    rows = await db_pool.fetch(
        "SELECT answer FROM claim_lines UNION ALL SELECT answer FROM claim_line_rejections"
    )
    assert sorted(r["answer"]["message"] for r in rows) == sorted(a.message for a in answers)


async def test_each_paid_line_and_reversal_sets_the_cases_units_paid_in_its_record(ledger, db_pool):
    await CaseStore(db_pool, default_registry()).project_authorization(projection(version=1))

    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=35)))
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-B", units=70)))
    after_lines = await _units_paid_of_case(db_pool)
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=35, reversal=True)))
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-B", units=71)))  # CARC 16

    assert after_lines == 105
    assert await _units_paid_of_case(db_pool) == 70
    assert await db_pool.fetchval("SELECT version FROM authorizations") == 1


async def test_a_line_of_a_case_with_no_record_yet_is_counted_when_the_record_is_written(
    ledger, db_pool
):
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=35)))

    await CaseStore(db_pool, default_registry()).project_authorization(projection(version=1))

    assert await _units_paid_of_case(db_pool) == 35


async def test_a_later_projection_leaves_units_paid_to_the_ledger(ledger, db_pool):
    """Once the record exists only the ledger writes ``units_paid`` (with each paid line,
    under the member's lock): a projection, which takes no lock, never writes it."""
    store = CaseStore(db_pool, default_registry())
    await store.project_authorization(projection(version=1))
    await ledger.adjudicate_claim(claim_input(claim_line("CLM-A", units=35)))
    await db_pool.execute("UPDATE authorizations SET units_paid = 7")  # a stand-in value

    await store.project_authorization(projection(version=2, status="completed"))

    row = await db_pool.fetchrow("SELECT version, status, units_paid FROM authorizations")
    assert (row["version"], row["status"], row["units_paid"]) == (2, "completed", 7)


async def _units_paid_of_case(pool, case_id="pa-REQ-1") -> int:
    return await pool.fetchval("SELECT units_paid FROM authorizations WHERE case_id = $1", case_id)
