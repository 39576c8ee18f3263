"""Clinical events as the ``record_clinical_event`` update (CONTRACT.md, "Clinical event").

An event is dated between the case's day of receipt and its today (the
business clock), else it is refused before anything reaches history. A
``retraction`` withdraws an earlier event entered in error: a retracted death
reinstates the case with its clocks, a retracted toxicity no longer counts
at renewal; an unknown target is refused, a second retraction of the same
event is a conflict. The old ``clinical_event`` signal still works and drops
what the update would refuse. The sending system travels beside the event
(``ClinicalEventMessage.sent_by``) and is recorded with it. Once the case has
ended (its claims run-out) a retraction is a conflict; a case reinstated by a
retraction gets its run-out from the periods it got back when it later ends.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.clinical_event import ClinicalEvent
from infra.temporal import AUTH_RUN_OUT_UNTIL, AUTH_STATUS
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import ClinicalEventMessage, RenewalRequestInput

# relapsed_refractory, received 2026-12-01 (day 0), period 2026-12-03 .. 2027-06-30 (day 211);
# the renewal window opens 2027-05-31 (day 181).
WINDOW_DAY = 181
END_DAY = 211


def event(event_id: str, kind: str, day: str, **payload: Any) -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {"event_id": event_id, "type": kind, "date": day, **payload}
    )


def retraction(event_id: str, day: str, retracts: str) -> ClinicalEvent:
    return event(
        event_id, "retraction", day, retraction={"retracts": retracts, "reason": "entered in error"}
    )


async def record(handle, ev: ClinicalEvent):
    return await handle.execute_update(W.record_clinical_event, ev)


async def refusal(handle, ev: ClinicalEvent) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await record(handle, ev)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def refused_field(cause: ApplicationError) -> str:
    [detail] = cause.details
    [error] = detail["errors"]
    return error["field"]


async def rows(db_pool, handle, table: str = "clinical_events") -> int:
    return await db_pool.fetchval(f"SELECT count(*) FROM {table} WHERE case_id = $1", handle.id)


async def accepted_updates(handle) -> int:
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    )


async def test_an_event_dated_before_receipt_or_after_today_is_refused_and_changes_nothing(
    cases, db_pool
):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(10)  # today is 2026-12-11
    updates = await accepted_updates(handle)

    for day in ("2026-11-30", "2026-12-12", "2031-01-01"):
        cause = await refusal(handle, event(f"EV-{day}", "death", day))
        assert cause.type == "InvalidInput"
        assert refused_field(cause) == "date"
        assert "2026-12-01" in cause.message and "2026-12-11" in cause.message

    status = await handle.query(W.status)
    assert status.status == "active"
    assert await rows(db_pool, handle) == 0
    assert await accepted_updates(handle) == updates  # a rejected update writes no history
    assert "clinical_event" not in [e.kind for e in (await handle.query(W.history)).entries]

    for day in ("2026-12-01", "2026-12-11"):  # the bounds are inclusive
        done = await record(handle, event(f"EV-OK-{day}", "live_vaccine", day))
        assert done.accepted and not done.duplicate
    assert await rows(db_pool, handle) == 2


async def test_a_death_entered_in_error_is_retracted_and_the_case_is_active_again(cases, db_pool):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(20)  # 2026-12-21
    died = await record(handle, event("EV-DEATH", "death", "2026-12-20"))
    assert (died.accepted, died.status) == (True, "discontinued")
    denied = await handle.execute_update(
        W.adjudicate_claim, cases.claim("C-1", "2026-12-21", units=35)
    )
    assert (denied.status, denied.carc_codes) == ("denied", ["13"])

    await cases.to_day(21)
    undone = await record(handle, retraction("EV-UNDO", "2026-12-22", "EV-DEATH"))
    assert (undone.accepted, undone.status) == (True, "active")
    again = await record(handle, retraction("EV-UNDO", "2026-12-22", "EV-DEATH"))
    assert again.duplicate  # a repeated retraction id is ignored like any repeated event

    status = await handle.query(W.status)
    assert status.status == "active" and status.period_end == date(2027, 6, 30)
    assert (await handle.describe()).typed_search_attributes[AUTH_STATUS] == "active"
    history = await handle.query(W.history)
    assert [c.status for c in history.status_changes] == [
        "received", "active", "discontinued", "active",
    ]  # fmt: skip
    assert [n.kind for n in history.notifications] == ["approval", "discontinued", "reinstated"]
    logged = {e.kind: e for e in history.entries}
    assert logged["retracted"].policy_ref == logged["reinstated"].policy_ref
    assert "Clinical event" in logged["reinstated"].policy_ref
    assert await rows(db_pool, handle) == 2
    types = await db_pool.fetch(
        "SELECT type, event->'retraction'->>'retracts' AS retracts FROM clinical_events"
        " WHERE case_id = $1 ORDER BY id",
        handle.id,
    )
    assert [(r["type"], r["retracts"]) for r in types] == [
        ("death", None), ("retraction", "EV-DEATH"),
    ]  # fmt: skip
    for _ in range(50):
        kinds = [
            r["kind"]
            for r in await db_pool.fetch(
                "SELECT kind FROM notifications WHERE case_id = $1", handle.id
            )
        ]
        if "reinstated" in kinds:
            break
        await asyncio.sleep(0.1)
    assert "reinstated" in kinds
    # The death no longer stands: a line after its date is paid.
    paid = await handle.execute_update(
        W.adjudicate_claim, cases.claim("C-2", "2026-12-21", units=35)
    )
    assert paid.status == "paid"

    # Its clocks run again: the renewal window opens, the unrenewed period expires.
    await cases.to_day(WINDOW_DAY + 0.5)
    assert (await handle.query(W.status)).status == "renewal_window"
    await cases.to_day(END_DAY + 2)
    assert (await handle.result()).status == "expired"


async def test_a_retracted_death_restores_the_renewed_period_it_cut(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(WINDOW_DAY - 30)
    await record(
        handle,
        event(
            "EV-R",
            "response_assessment",
            "2027-05-01",
            response_assessment={"result": "complete_response", "method": "bone_marrow"},
        ),
    )
    await cases.to_day(WINDOW_DAY + 1)
    renewed = await handle.execute_update(W.request_renewal, RenewalRequestInput())
    assert renewed.determination == "approve"
    await cases.to_day(WINDOW_DAY + 2)
    await record(handle, event("EV-STOP", "discontinued", "2027-06-02"))
    assert len((await handle.query(W.periods)).periods) == 1
    await record(handle, retraction("EV-UNDO", "2027-06-02", "EV-STOP"))
    periods = (await handle.query(W.periods)).periods
    assert [(p.kind, p.end) for p in periods] == [
        ("initial", date(2027, 6, 30)),
        ("renewal", date(2027, 12, 15)),
    ]
    assert (await handle.query(W.status)).status == "active"
    await cases.to_day(END_DAY + 2)
    status = await handle.query(W.status)
    assert (status.status, status.period_index) == ("active", 1)  # the renewal period started


async def test_a_case_stays_discontinued_while_another_report_still_stands(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(20)
    await record(handle, event("EV-STOP", "discontinued", "2026-12-19"))
    await record(handle, event("EV-DEATH", "death", "2026-12-20"))
    stays = await record(handle, retraction("EV-UNDO", "2026-12-21", "EV-DEATH"))
    assert (stays.accepted, stays.status) == (True, "discontinued")
    kinds = [e.kind for e in (await handle.query(W.history)).entries]
    assert "still_discontinued" in kinds and "reinstated" not in kinds


async def test_retracting_an_unknown_unretractable_or_retracted_event_is_refused(cases, db_pool):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(20)
    await record(
        handle, event("EV-T", "toxicity", "2026-12-20", toxicity={"kind": "crs", "grade": 2})
    )
    await record(handle, event("EV-C", "cycle_started", "2026-12-20", cycle_started={"cycle": 1}))

    unknown = await refusal(handle, retraction("EV-X1", "2026-12-21", "EV-NOPE"))
    assert (unknown.type, refused_field(unknown)) == ("InvalidInput", "retraction.retracts")
    cycle = await refusal(handle, retraction("EV-X2", "2026-12-21", "EV-C"))
    assert (cycle.type, refused_field(cycle)) == ("InvalidInput", "retraction.retracts")
    assert "cycle_started" in cycle.message

    assert (await record(handle, retraction("EV-X3", "2026-12-21", "EV-T"))).accepted
    twice = await refusal(handle, retraction("EV-X4", "2026-12-21", "EV-T"))
    assert twice.type == "Conflict" and "EV-X3" in twice.message
    itself = await refusal(handle, retraction("EV-X5", "2026-12-21", "EV-X3"))
    assert itself.type == "InvalidInput"  # a retraction is final

    assert await rows(db_pool, handle) == 3
    assert (await handle.query(W.status)).status == "active"


async def test_a_retracted_grade_4_toxicity_no_longer_blocks_the_renewal(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(150)
    await record(
        handle, event("EV-T4", "toxicity", "2027-04-28", toxicity={"kind": "crs", "grade": 4})
    )
    response = {"result": "complete_response", "method": "bone_marrow"}
    await record(
        handle, event("EV-R", "response_assessment", "2027-04-29", response_assessment=response)
    )
    await record(handle, retraction("EV-UNDO", "2027-04-30", "EV-T4"))
    await cases.to_day(WINDOW_DAY + 1)
    outcome = await handle.execute_update(W.request_renewal, RenewalRequestInput())
    assert (outcome.accepted, outcome.determination) == (True, "approve")
    assert "unacceptable_toxicity" not in [r.code for r in outcome.reasons]


async def test_the_old_signal_drops_an_event_dated_out_of_range_and_takes_a_good_one(
    cases, db_pool
):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(10)
    await handle.signal(W.clinical_event, event("EV-FUTURE", "death", "2027-01-01"))
    await handle.signal(W.clinical_event, event("EV-BEFORE", "death", "2026-11-01"))
    await handle.signal(W.clinical_event, event("EV-OK", "live_vaccine", "2026-12-05"))
    await cases.to_day(10.01)
    assert (await handle.query(W.status)).status == "active"
    for _ in range(50):
        if await rows(db_pool, handle) >= 1:
            break
        await asyncio.sleep(0.1)
    events = await db_pool.fetch(
        "SELECT event_id FROM clinical_events WHERE case_id = $1", handle.id
    )
    assert [r["event_id"] for r in events] == ["EV-OK"]


async def test_the_update_records_the_system_that_sent_the_event(cases, db_pool):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(10)
    sent = ClinicalEventMessage.sent(event("EV-W", "live_vaccine", "2026-12-05"), "clinical-sys")
    assert (await handle.execute_update(W.record_clinical_event, sent)).accepted
    row = await db_pool.fetchrow(
        "SELECT event_id, sent_by FROM clinical_events WHERE case_id = $1", handle.id
    )
    assert (row["event_id"], row["sent_by"]) == ("EV-W", "clinical-sys")
    [logged] = [e for e in (await handle.query(W.history)).entries if e.kind == "clinical_event"]
    assert logged.actor == "clinical-sys"


async def test_a_reinstated_case_gets_its_run_out_from_the_period_it_got_back(cases):
    handle = await cases.start("frontline_induction")  # 2026-12-03 .. 2026-12-30
    await cases.to_day(12)  # 2026-12-13
    await record(handle, event("EV-STOP", "discontinued", "2026-12-10"))
    assert (await handle.query(W.status)).status == "discontinued"
    undone = await record(handle, retraction("EV-UNDO", "2026-12-13", "EV-STOP"))
    assert (undone.accepted, undone.status) == (True, "active")

    await cases.to_day(41)  # 2027-01-11: the period has ended, the case with it
    status = await handle.query(W.status)
    assert status.status in ("expired", "completed")
    # Counted from the period's end, as for any case that ends (commercial: 180 days).
    assert status.run_out_until == date(2027, 6, 28)
    assert status.run_out_service_through == date(2026, 12, 30)  # the stop no longer counts
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs[AUTH_RUN_OUT_UNTIL].date() == date(2027, 6, 28)
    paid = await handle.execute_update(
        W.adjudicate_claim, cases.claim("C-LATE", "2026-12-20", units=35)
    )
    assert paid.status == "paid"  # a day after the retracted discontinuation


async def test_an_ended_case_in_its_run_out_refuses_a_retraction_as_a_conflict(cases, db_pool):
    handle = await cases.start("frontline_induction")  # 2026-12-03 .. 2026-12-30
    await cases.to_day(12)
    await record(handle, event("EV-STOP", "discontinued", "2026-12-10"))
    await cases.to_day(41)  # the period has ended: the case has ended, in its run-out
    before = await handle.query(W.status)
    assert (before.status, before.run_out_until) == ("discontinued", date(2027, 6, 28))

    late = await refusal(handle, retraction("EV-UNDO", "2027-01-11", "EV-STOP"))
    assert late.type == "Conflict"
    assert refused_field(late) == "retraction.retracts"
    assert "ended" in late.message

    after = await handle.query(W.status)
    assert (after.status, after.run_out_until) == ("discontinued", date(2027, 6, 28))
    assert "reinstated" not in [n.kind for n in (await handle.query(W.history)).notifications]
    assert await rows(db_pool, handle) == 1  # only the discontinuation
