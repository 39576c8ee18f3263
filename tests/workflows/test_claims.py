"""Claims against a live case (POLICY.md, "Claims against an authorization"; Section II).

The answer per check, in policy order: outside the period (197), another
service (15), no covered diagnosis (11), after death (13), over the period's
units (198), over 980 units per rolling 42 days (119, partly paid); the same
line again gets the same answer, another content under its id is denied (16);
a reversal gives the units back. A malformed line never reaches history.
"""

from __future__ import annotations

from datetime import date

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.clinical_event import ClinicalEvent
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import CaseInput


async def claim(handle, line):
    return await handle.execute_update(W.adjudicate_claim, line)


async def test_claims_are_answered_in_policy_order_with_rolling_42_day_units(cases):
    handle = await cases.start("relapsed_refractory")  # period 2026-12-03 .. 2027-06-30
    await cases.to_day(2)

    before = await claim(handle, cases.claim("C-0", "2026-12-02"))
    assert (before.status, before.carc_codes) == ("denied", ["197"])
    other = await claim(handle, cases.claim("C-X", "2026-12-03", hcpcs="J9999"))
    assert (other.status, other.carc_codes) == ("denied", ["15"])
    no_dx = await claim(handle, cases.claim("C-D", "2026-12-03", icd10_codes=["C83.5A"]))
    assert (no_dx.status, no_dx.carc_codes) == ("denied", ["11"])

    first = await claim(handle, cases.claim("C-1", "2026-12-03", units=900))
    assert (first.status, first.allowed_units) == ("paid", 900)
    await cases.to_day(9)
    over = await claim(handle, cases.claim("C-2", "2026-12-10", units=100))
    assert over.status == "partially_paid"
    assert (over.allowed_units, over.denied_units, over.carc_codes) == (80, 20, ["119"])

    again = await claim(handle, cases.claim("C-1", "2026-12-03", units=900))
    assert again == first
    changed = await claim(handle, cases.claim("C-1", "2026-12-03", units=35))
    assert (changed.status, changed.carc_codes) == ("denied", ["16"])
    assert (await handle.query(W.status)).units_paid == 980

    void = await claim(handle, cases.claim("C-1", "2026-12-03", units=900, reversal=True))
    assert void.reversal and void.allowed_units == -900
    assert (await handle.query(W.status)).units_paid == 80
    room = await claim(handle, cases.claim("C-3", "2026-12-10", units=500))
    assert (room.status, room.allowed_units) == ("paid", 500)

    with pytest.raises(WorkflowUpdateFailedError):  # the validator: another member's claim
        await claim(handle, cases.claim("C-4", "2026-12-10", member_id="M-2"))

    await cases.to_day(45)
    later = await claim(handle, cases.claim("C-5", "2027-01-14", units=400))
    assert later.status == "paid"

    units = await handle.query(W.units)
    assert units.units_paid == 980
    assert [p.units_paid for p in units.by_period] == [980]
    cycles = await handle.query(W.cycles)
    assert [(c.cycle, c.start, c.phase) for c in cycles.cycles] == [
        (1, date(2026, 12, 3), "induction"),
        (2, date(2027, 1, 14), "induction"),
    ]
    history = await handle.fetch_history()
    assert "M-2" not in str(history.to_json())  # rejected before it reached history


async def test_units_beyond_the_period_total_are_denied(cases):
    handle = await cases.start("frontline_induction")  # one cycle: 980 units
    await cases.to_day(2)
    assert (await claim(handle, cases.claim("F-1", "2026-12-03", units=980))).status == "paid"
    await cases.to_day(20)
    extra = await claim(handle, cases.claim("F-2", "2026-12-20", units=35))
    assert extra.status == "denied"
    assert extra.carc_codes[0] == "198"


async def test_claims_before_approval_find_no_authorization(cases):
    handle = await cases.start("mrd_positive", diagnosis={"mrd_percent": None})
    await cases.to_day(2)
    assert (await handle.query(W.status)).status == "pended"
    answer = await claim(handle, cases.claim("P-1", "2026-12-03"))
    assert (answer.status, answer.carc_codes) == ("denied", ["197"])


async def test_death_discontinues_and_claims_dated_after_it_are_denied(cases, db_pool):
    handle = await cases.start("frontline_induction")  # 2026-12-03 .. 2026-12-30
    await cases.to_day(3)
    assert (await claim(handle, cases.claim("D-1", "2026-12-04", units=35))).status == "paid"
    event = ClinicalEvent(event_id="EV-D", type="death", date=date(2026, 12, 10))
    await cases.to_day(12)
    await handle.signal(W.clinical_event, event)
    await handle.signal(W.clinical_event, event)  # a repeated event id is ignored
    late = await claim(handle, cases.claim("D-2", "2026-12-09", units=35))
    assert late.status == "paid"  # served before the death, billed after it
    after = await claim(handle, cases.claim("D-3", "2026-12-11", units=35))
    assert (after.status, after.carc_codes) == ("denied", ["13"])
    assert (await handle.query(W.status)).status == "discontinued"
    await cases.to_day(32)
    result = await handle.result()
    assert result.status == "discontinued"
    rows = await db_pool.fetchval(
        "SELECT count(*) FROM clinical_events WHERE case_id = $1", handle.id
    )
    assert rows == 1


async def test_a_long_history_continues_as_new_without_losing_a_claim(cases):
    handle = await cases.start("consolidation", config={"continue_as_new_after_events": 60})
    answers = []
    for day in range(2, 12):
        await cases.to_day(day)
        line = cases.claim(f"H-{day}", f"2026-12-{day + 1:02d}", units=35)
        answers.append(await claim(handle, line))
    assert all(a.status == "paid" for a in answers)
    status = await handle.query(W.status)
    assert status.run > 1
    assert status.units_paid == 350
    # Every answer crossed into the later runs: the same lines get the same answers.
    again = await claim(handle, cases.claim("H-2", "2026-12-03", units=35))
    assert again == answers[0]
    assert (await handle.query(W.status)).units_paid == 350


async def test_a_paid_line_updates_the_record_through_the_ledger_without_a_projection(
    cases, db_pool
):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(2)
    await claim(handle, cases.claim("P-1", "2026-12-03", units=35))  # starts cycle 1
    history_before = await handle.fetch_history()

    await claim(handle, cases.claim("P-2", "2026-12-04", units=35))
    await claim(handle, cases.claim("P-1", "2026-12-03", units=35, reversal=True))

    new_events = (await handle.fetch_history()).events[len(history_before.events) :]
    markers = [e for e in new_events if e.HasField("marker_recorded_event_attributes")]
    assert len(markers) == 2  # one local activity per line: the ledger, no projection
    row = await db_pool.fetchrow(
        "SELECT units_paid, version FROM authorizations WHERE case_id = $1", handle.id
    )
    assert row["units_paid"] == 35 == (await handle.query(W.status)).units_paid
    assert row["version"] == 2  # the approval, then the cycle the first line started


async def test_a_case_carries_its_decision_into_later_runs_without_the_trace(cases, db_pool):
    handle = await cases.start("consolidation", config={"continue_as_new_after_events": 20})
    for day in range(2, 6):
        await cases.to_day(day)
        await claim(handle, cases.claim(f"T-{day}", f"2026-12-{day + 1:02d}", units=35))
    assert (await handle.query(W.status)).run > 1

    latest = await handle.fetch_history()
    started = latest.events[0].workflow_execution_started_event_attributes
    [carried] = await cases.env.client.data_converter.decode(started.input.payloads, [CaseInput])
    assert carried.state.decision.determination == "approve"
    assert carried.state.decision.trace is None  # PostgreSQL holds it, under the key
    stored = await db_pool.fetchval(
        "SELECT trace FROM decisions WHERE decision_key = $1", carried.state.decision_key
    )
    assert stored["policy_ref"] and stored["children"]
