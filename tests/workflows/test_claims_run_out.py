"""Claims run-out (POLICY.md, "Claims against an authorization", Claims run-out).

An ended case with an approved period keeps answering claims, in its final status,
until the timely-filing limit of its last payable date of service has passed; then
its run ends. Late lines inside the limit are adjudicated by the usual checks (units
cut by the period's total and the member's 42-day window as any other), later ones
are denied CARC 29, dates outside the periods or after a withdrawal or
discontinuation CARC 197. Cases that ended without an approved period end at once.

Day 0 is the request's receipt, 2026-12-01 (examples/example_requests.py).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from domain.clinical_event import ClinicalEvent
from infra.settings import Settings
from infra.temporal import AUTH_RUN_OUT_UNTIL, AUTH_STATUS
from tests.workflows.conftest import SCENARIOS
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import WithdrawInput

RECEIVED = datetime(2026, 12, 1, 9, tzinfo=UTC)


def day_of(when: str) -> int:
    """The business day of a date (days after the request's receipt)."""
    return (date.fromisoformat(when) - RECEIVED.date()).days


async def claim(handle, line):
    return await handle.execute_update(W.adjudicate_claim, line)


async def details(handle) -> str:
    meta = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return meta.current_details


async def statuses(handle) -> list[str]:
    return [c.status for c in (await handle.query(W.history)).status_changes]


async def business_close(cases, handle) -> datetime:
    """When the run ended, on the case's business clock."""
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED
    assert desc.close_time is not None and cases.anchor is not None
    return RECEIVED + (desc.close_time - cases.anchor)


async def test_a_late_claim_on_an_expired_case_is_paid_within_the_timely_filing_limit(cases):
    handle = await cases.start("relapsed_refractory")  # 2026-12-03 .. 2027-06-30, commercial
    await cases.to_day(2)
    early = await claim(handle, cases.claim("L-0", "2026-12-03"))
    assert early.status == "paid"

    await cases.to_day(day_of("2027-07-09"))  # nine days after the case expired
    status = await handle.query(W.status)
    assert status.status == "expired"
    assert (status.run_out_until, status.run_out_service_through) == (
        date(2027, 12, 27),  # 2027-06-30 + 180 days (commercial, policy data)
        date(2027, 6, 30),
    )
    late = await claim(handle, cases.claim("L-1", "2027-06-29"))
    assert (late.status, late.allowed_units, late.carc_codes) == ("paid", 35, [])
    stale = await claim(handle, cases.claim("L-2", "2027-01-05"))  # last day was 2027-07-04
    assert (stale.status, stale.carc_codes) == ("denied", ["29"])
    outside = await claim(handle, cases.claim("L-3", "2027-07-02"))
    assert (outside.status, outside.carc_codes) == ("denied", ["197"])
    again = await claim(handle, cases.claim("L-0", "2026-12-03"))  # answered before it ended
    assert again == early

    units = await handle.query(W.units)
    assert units.units_paid == 70
    assert [a.claim_id for a in units.claims] == ["L-0", "L-1", "L-2", "L-3"]
    refused = await handle.execute_update(W.withdraw, WithdrawInput(reason="late"))
    assert not refused.accepted and (await handle.query(W.status)).status == "expired"

    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
    assert desc.typed_search_attributes[AUTH_STATUS] == "expired"
    assert desc.typed_search_attributes[AUTH_RUN_OUT_UNTIL].date() == date(2027, 12, 27)
    assert "run-out until 2027-12-27" in await details(handle)


async def test_the_example_scenario_pays_the_claim_sent_nine_days_after_expiry(cases):
    run = await cases.scenario("claims_run_out")  # examples/scenarios/claims_run_out.json

    result = run.result
    assert result.status == "expired"
    assert [(c.claim_id, c.status, c.carc_codes) for c in result.claims] == [
        ("CLM-RO-1", "paid", []),
        ("CLM-RO-2", "paid", []),  # DOS 2027-06-29, sent 2027-07-09
        ("CLM-RO-3", "denied", ["29"]),  # DOS 2027-01-09, sent 181 days later
        ("CLM-RO-4", "denied", ["29"]),  # sent after the run-out ended (2027-12-27)
    ]
    assert result.units_paid == 70
    assert [r.day for r in result.refusals] == [392]


async def test_a_case_whose_run_out_passes_ends_its_run_in_its_final_status(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(day_of("2027-12-27"))  # the run-out's last day: still in time
    last_day = await claim(handle, cases.claim("R-1", "2027-06-30"))
    assert last_day.status == "paid"
    stale = await claim(handle, cases.claim("R-2", "2027-06-29"))  # its last day was yesterday
    assert stale.carc_codes == ["29"]

    result = await handle.result()

    assert (result.status, result.units_paid) == ("expired", 35)
    assert await statuses(handle) == ["received", "active", "renewal_window", "expired"]
    closed = await business_close(cases, handle)
    assert datetime(2027, 12, 28, tzinfo=UTC) <= closed < datetime(2027, 12, 28, 1, tzinfo=UTC)
    assert "run-out ended 2027-12-27" in await details(handle)
    with pytest.raises(RPCError):  # the run has ended: the claims system gets a refusal
        await claim(handle, cases.claim("R-3", "2027-06-28"))


def _late_last_cycle(full: dict, late_day: int) -> tuple[dict, list[str]]:
    """The relapsed/refractory lifecycle with cycle 9's claims sent on ``late_day``."""
    data = copy.deepcopy(full)
    data["request"]["request_id"] = "REQ-RUN-OUT-COMPLETED"
    moved = []
    for event in data["events"]:
        if event["action"] == "claim" and event["claim"]["claim_id"].startswith("CLM-C9-"):
            event["day"] = late_day
            moved.append(event["claim"]["claim_id"])
    data["events"].sort(key=lambda e: e["day"])
    return data, moved


async def test_a_completed_case_pays_late_claims_of_its_third_period(cases):
    full = json.loads((SCENARIOS / "relapsed_refractory_full.json").read_text())
    third_end = "2028-05-31"  # 2026-12-03 + 210 + 168 + 168 days - 1
    data, moved = _late_last_cycle(full, day_of(third_end) + 30)
    gone = {
        "day": day_of("2028-11-28"),  # the day after the run-out's last (2028-05-31 + 180)
        "action": "claim",
        "claim": {**data["events"][-1]["claim"], "claim_id": "CLM-AFTER-RUN-OUT"},
    }
    data["events"].append(gone)
    data["until_day"] = gone["day"] + 1

    run = await cases.scenario(data)

    result = run.result
    assert result.status == "completed"
    assert [p.end for p in result.periods][-1] == date(2028, 5, 31)
    late = [c for c in result.claims if c.claim_id in moved]
    assert len(late) == 28 and all(c.status == "paid" for c in late)
    assert result.units_paid == 9 * 980
    assert [c.status for c in result.status_changes][-1] == "completed"
    after = result.claims[-1]
    assert (after.claim_id, after.status, after.carc_codes) == (
        "CLM-AFTER-RUN-OUT",
        "denied",
        ["29"],
    )
    assert result.refusals[-1].reason == (
        "the case is closed (completed); its claims run-out ended 2028-11-27"
    )


async def test_a_withdrawn_case_answers_claims_for_dates_before_the_withdrawal(cases):
    handle = await cases.start("consolidation")  # 2026-12-03 .. 2027-06-30
    await cases.to_day(day_of("2026-12-21"))
    outcome = await handle.execute_update(W.withdraw, WithdrawInput(reason="moved"))
    assert outcome.accepted and outcome.status == "withdrawn"

    await cases.to_day(day_of("2027-01-05"))
    before = await claim(handle, cases.claim("W-1", "2026-12-20"))
    assert before.status == "paid"
    on_the_day = await claim(handle, cases.claim("W-2", "2026-12-21"))
    assert (on_the_day.status, on_the_day.carc_codes) == ("denied", ["197"])
    assert "withdrawal" in on_the_day.message
    status = await handle.query(W.status)
    assert (status.status, status.run_out_until) == ("withdrawn", date(2027, 6, 18))

    result = await handle.result()
    assert result.status == "withdrawn"
    assert (await business_close(cases, handle)).date() == date(2027, 6, 19)


async def test_a_case_withdrawn_before_approval_has_no_run_out(cases):
    handle = await cases.start("mrd_positive", diagnosis={"mrd_percent": None})
    await cases.to_day(1)
    assert (await handle.query(W.status)).status == "pended"
    await handle.execute_update(W.withdraw, WithdrawInput(reason="no longer needed"))

    result = await handle.result()

    assert result.status == "withdrawn"
    assert (await handle.query(W.status)).run_out_until is None
    assert AUTH_RUN_OUT_UNTIL not in (await handle.describe()).typed_search_attributes
    assert (await business_close(cases, handle)).date() == date(2026, 12, 2)


async def test_a_discontinued_case_answers_claims_up_to_the_discontinuation_date(cases):
    handle = await cases.start("frontline_induction")  # 2026-12-03 .. 2026-12-30
    await cases.to_day(12)
    event = ClinicalEvent(event_id="EV-STOP", type="discontinued", date=date(2026, 12, 10))
    await handle.signal(W.clinical_event, event)

    await cases.to_day(day_of("2027-01-10"))  # the period has ended
    status = await handle.query(W.status)
    # Counted from the period's end, not the discontinuation date (no clinical date in clear).
    assert (status.status, status.run_out_until) == ("discontinued", date(2027, 6, 28))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    paid = await claim(handle, cases.claim("S-1", "2026-12-10"))
    assert paid.status == "paid"
    after = await claim(handle, cases.claim("S-2", "2026-12-11"))
    assert (after.status, after.carc_codes) == ("denied", ["197"])

    await cases.to_day(day_of("2027-06-05"))
    stale = await claim(handle, cases.claim("S-3", "2026-12-04"))  # its last day: 2027-06-02
    assert stale.carc_codes == ["29"]
    result = await handle.result()
    assert (result.status, result.units_paid) == ("discontinued", 35)


async def test_a_late_claim_is_cut_by_the_members_42_day_window(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(day_of("2027-06-20"))
    for n, dos in enumerate(("2027-06-02", "2027-06-09", "2027-06-16"), 1):
        assert (await claim(handle, cases.claim(f"U-{n}", dos, units=315))).status == "paid"

    await cases.to_day(day_of("2027-07-09"))
    assert (await handle.query(W.status)).status == "expired"
    late = await claim(handle, cases.claim("U-4", "2027-06-29", units=70))

    assert late.status == "partially_paid"
    assert (late.allowed_units, late.denied_units, late.carc_codes) == (35, 35, ["119"])


async def test_a_claim_on_a_live_case_is_held_to_the_timely_filing_limit_too(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(day_of("2027-06-04"))
    assert (await handle.query(W.status)).status == "renewal_window"

    stale = await claim(handle, cases.claim("T-1", "2026-12-05"))  # its last day: 2027-06-03

    assert (stale.status, stale.carc_codes) == ("denied", ["29"])


@pytest.mark.parametrize(
    ("line_of_business", "setting", "until"),
    [
        ("commercial", None, date(2027, 12, 27)),
        ("medicaid", None, date(2028, 6, 29)),
        ("medicare_advantage", None, date(2028, 6, 29)),
        ("commercial", 30, date(2027, 7, 30)),
    ],
    ids=["commercial", "medicaid", "medicare-advantage", "commercial-setting-30"],
)
async def test_the_run_out_lasts_the_timely_filing_limit_of_the_line_of_business(
    cases, line_of_business, setting, until
):
    cases.settings = Settings(notify_channel="log", timely_filing_days_commercial=setting)
    handle = await cases.start("relapsed_refractory", line_of_business=line_of_business)
    await cases.to_day(day_of("2027-07-09"))

    status = await handle.query(W.status)
    assert (status.status, status.run_out_until) == ("expired", until)
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs[AUTH_RUN_OUT_UNTIL].date() == until
    late = await claim(handle, cases.claim("P-1", "2027-06-05"))  # 34 days after
    assert late.carc_codes == (["29"] if setting == 30 else [])
