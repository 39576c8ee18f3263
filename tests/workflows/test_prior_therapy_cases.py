"""Prior cycles shape a live case (policy Section I, "Prior therapy"; Section II; Section IV).

A relapsed/refractory member with 3 prior cycles is granted cycles 4-6 (2,940 units) in
the 210-day initial period, renewed for 7-8 (1,960) and then for 9 (980); claims start
the cycles by those numbers, each period pays at most 980 x its cycles (CARC 198 beyond),
and the case completes after cycle 9. With 8 prior cycles the one period (cycle 9) is not
renewable: no renewal window opens and the case completes at the period's end.
"""

from __future__ import annotations

from datetime import date

from domain.clinical_event import ClinicalEvent
from tests.case_status import wait_for_status
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import RenewalRequestInput

# Day 0 is 2026-12-01. Periods: 2026-12-03..2027-06-30 (window from day 181),
# 2027-07-01..2027-12-15 (window from day 349), 2027-12-16..2028-05-31 (ends day 547).
FIRST_WINDOW_DAY = 181
SECOND_WINDOW_DAY = 349
LAST_DAY = 547


def response(event_id: str, day: str) -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {
            "event_id": event_id,
            "type": "response_assessment",
            "date": day,
            "response_assessment": {"result": "complete_response", "method": "bone_marrow"},
        }
    )


def cycle_started(event_id: str, day: str, cycle: int) -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {
            "event_id": event_id,
            "type": "cycle_started",
            "date": day,
            "cycle_started": {"cycle": cycle},
        }
    )


async def claim(cases, handle, claim_id: str, day: str, units: int):
    return await handle.execute_update(W.adjudicate_claim, cases.claim(claim_id, day, units=units))


async def test_three_prior_cycles_grant_4_to_6_then_renewals_7_8_and_9_then_completion(
    cases, db_pool
):
    handle = await cases.start("relapsed_refractory", therapy={"prior_blinatumomab_cycles": 3})
    assert await wait_for_status(handle, "active") == "active"
    periods = (await handle.query(W.periods)).periods
    assert [(p.kind, p.start, p.end, p.first_cycle, p.cycles, p.authorized_units)
            for p in periods] == [
        ("initial", date(2026, 12, 3), date(2027, 6, 30), 4, 3, 2940),
    ]  # fmt: skip
    status = await handle.query(W.status)
    assert (status.max_renewals, status.units_authorized) == (2, 2940)

    # A full cycle's units on each cycle's first day: cycles 4, 5 (42 d) and 6 (84 d).
    await cases.to_day(2)
    assert (await claim(cases, handle, "P-4", "2026-12-03", 980)).status == "paid"
    await cases.to_day(44)
    assert (await claim(cases, handle, "P-5", "2027-01-14", 980)).status == "paid"
    await cases.to_day(86)
    assert (await claim(cases, handle, "P-6", "2027-02-25", 980)).status == "paid"
    # The period pays 980 x 3 cycles: past the 42-day window the next line is over its total.
    await cases.to_day(151)
    over = await claim(cases, handle, "P-X1", "2027-05-01", 35)
    assert (over.status, over.carc_codes) == ("denied", ["198"])

    await cases.to_day(FIRST_WINDOW_DAY + 0.5)
    await handle.signal(W.clinical_event, response("EV-R1", "2027-05-31"))
    first = await handle.execute_update(W.request_renewal, RenewalRequestInput(facts={}))
    assert (first.accepted, first.determination) == (True, "approve")
    assert (first.period.first_cycle, first.period.cycles, first.period.authorized_units) == (
        7,
        2,
        1960,
    )

    await cases.to_day(212)
    assert (await claim(cases, handle, "P-7", "2027-07-01", 980)).status == "paid"
    await cases.to_day(296)
    assert (await claim(cases, handle, "P-8", "2027-09-23", 980)).status == "paid"
    await cases.to_day(345)
    over = await claim(cases, handle, "P-X2", "2027-11-10", 35)
    assert (over.status, over.carc_codes) == ("denied", ["198"])

    await handle.signal(W.clinical_event, response("EV-R2", "2027-11-11"))
    await cases.to_day(SECOND_WINDOW_DAY + 0.5)
    assert (await handle.query(W.status)).status == "renewal_window"
    second = await handle.execute_update(W.request_renewal, RenewalRequestInput(facts={}))
    assert (second.accepted, second.determination) == (True, "approve")
    assert (second.period.first_cycle, second.period.cycles, second.period.authorized_units) == (
        9,
        1,
        980,
    )

    await cases.to_day(380)
    assert (await claim(cases, handle, "P-9", "2027-12-16", 980)).status == "paid"
    await cases.to_day(430)
    over = await claim(cases, handle, "P-X3", "2028-02-01", 35)
    assert (over.status, over.carc_codes) == ("denied", ["198"])
    # No cycle is left after 9: no renewal window opens in the last period.
    await cases.to_day(LAST_DAY - 5)
    status = await handle.query(W.status)
    assert (status.status, status.renewal_window_opens) == ("active", None)
    assert status.units_authorized == 2940 + 1960 + 980

    await cases.to_day(LAST_DAY + 2)
    assert (await handle.query(W.status)).status == "completed"
    periods = (await handle.query(W.periods)).periods
    assert [(p.kind, p.first_cycle, p.cycles, p.authorized_units, p.units_paid)
            for p in periods] == [
        ("initial", 4, 3, 2940, 2940),
        ("renewal", 7, 2, 1960, 1960),
        ("renewal", 9, 1, 980, 980),
    ]  # fmt: skip
    cycles = await handle.query(W.cycles)
    assert [(c.cycle, c.phase, c.cycle_days) for c in cycles.cycles] == [
        (4, "consolidation", 42),
        (5, "consolidation", 42),
        (6, "continued_therapy", 84),
        (7, "continued_therapy", 84),
        (8, "continued_therapy", 84),
        (9, "continued_therapy", 84),
    ]
    assert cycles.prior_cycles == 3
    history = await handle.query(W.history)
    assert [c.status for c in history.status_changes] == [
        "received", "active", "renewal_window", "active", "renewal_window", "active", "completed",
    ]  # fmt: skip

    decision = await db_pool.fetchval(
        "SELECT decision FROM decisions WHERE case_id = $1 AND kind = 'initial'", handle.id
    )
    assert decision["authorization"]["first_cycle"] == 4
    record = await db_pool.fetchval(
        "SELECT periods FROM authorizations WHERE case_id = $1", handle.id
    )
    assert [(p["first_cycle"], p["cycles"], p["authorized_units"]) for p in record] == [
        (4, 3, 2940),
        (7, 2, 1960),
        (9, 1, 980),
    ]
    texts = dict(
        await db_pool.fetch(
            "SELECT kind, text FROM notifications WHERE case_id = $1 "
            "AND kind IN ('approval', 'completed')",
            handle.id,
        )
    )
    assert "Cycles covered: 3 (cycles 4 to 6)." in texts["approval"]
    assert "Cycles 1 to 3 count as blinatumomab already given" in texts["approval"]
    assert "Renewals left: 2." in texts["approval"]
    assert "through cycle 9" in texts["completed"]


async def test_eight_prior_cycles_grant_cycle_9_alone_and_the_case_completes_unrenewed(cases):
    handle = await cases.start("relapsed_refractory", therapy={"prior_blinatumomab_cycles": 8})
    assert await wait_for_status(handle, "active") == "active"
    status = await handle.query(W.status)
    assert (status.max_renewals, status.units_authorized) == (0, 980)
    [period] = (await handle.query(W.periods)).periods
    assert (period.first_cycle, period.cycles, period.end) == (9, 1, date(2027, 6, 30))

    await cases.to_day(2)
    assert (await claim(cases, handle, "E-9", "2026-12-03", 980)).status == "paid"
    # A cycle among the 8 prior ones is not started by this case.
    await handle.signal(W.clinical_event, cycle_started("EV-C3", "2026-12-03", 3))
    await cases.to_day(FIRST_WINDOW_DAY + 1)
    refused = await handle.execute_update(W.request_renewal, RenewalRequestInput(facts={}))
    assert (refused.accepted, refused.determination) == (False, "not_renewable")
    assert (await handle.query(W.status)).status == "active"  # no renewal window opens

    await cases.to_day(213)
    history = await handle.query(W.history)
    assert [c.status for c in history.status_changes] == ["received", "active", "completed"]
    assert [c.cycle for c in (await handle.query(W.cycles)).cycles] == [9]
    assert "cycle_refused" in [e.kind for e in history.entries]
