"""Renewals (policy Section IV) and the period's end (Section I).

The window opens 30 days before the period's last day (earlier requests are
refused with the opening date); grade 4 toxicity blocks a renewal and grade 3
sends it to clinical review; no response reported pends it; an approved
renewal continues the case as new with all its state; a period that ends
unrenewed expires; a reviewer's extension moves the end and the window.
"""

from __future__ import annotations

from datetime import date

from domain.clinical_event import ClinicalEvent
from infra.temporal import AUTH_PERIOD_END, AUTH_RENEWALS_USED, AUTH_STATUS
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import ExtendPeriodInput, RenewalRequestInput, ReviewDecisionInput

# relapsed_refractory from 2026-12-03 (day 2): the period ends 2027-06-30 (day 211),
# the window opens 2027-05-31 (day 181).
WINDOW_DAY = 181
END_DAY = 211


def toxicity(event_id: str, day: str, kind: str, grade: int) -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {
            "event_id": event_id,
            "type": "toxicity",
            "date": day,
            "toxicity": {"kind": kind, "grade": grade},
        }
    )


def response(event_id: str, day: str, result: str = "complete_response") -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {
            "event_id": event_id,
            "type": "response_assessment",
            "date": day,
            "response_assessment": {"result": result, "method": "bone_marrow"},
        }
    )


async def renew(handle, **facts):
    return await handle.execute_update(W.request_renewal, RenewalRequestInput(facts=facts))


async def history(handle):
    h = await handle.query(W.history)
    return [c.status for c in h.status_changes], [n.kind for n in h.notifications]


async def test_renewal_before_the_window_is_refused_and_the_period_expires_unrenewed(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(100)
    early = await renew(handle)
    assert not early.accepted
    assert early.determination == "too_early"
    assert early.window_opens == date(2027, 5, 31)
    assert "2027-05-31" in early.reason
    assert early.status == "active"

    await cases.to_day(WINDOW_DAY + 0.5)
    status = await handle.query(W.status)
    assert status.status == "renewal_window"
    assert status.renewal_window_opens == date(2027, 5, 31)
    await cases.to_day(END_DAY - 2)
    await cases.to_day(END_DAY + 2)
    result = await handle.result()
    assert result.status == "expired"
    statuses, notices = await history(handle)
    assert statuses == ["received", "active", "renewal_window", "expired"]
    assert notices == [
        "approval",
        "renewal_refused",
        "renewal_window_open",
        "renewal_reminder",
        "renewal_reminder",
        "expiry",
    ]
    assert (await handle.describe()).typed_search_attributes[AUTH_STATUS] == "expired"


async def test_grade_4_crs_blocks_the_renewal(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(150)
    await handle.signal(W.clinical_event, toxicity("EV-T4", "2027-04-28", "crs", 4))
    await handle.signal(W.clinical_event, response("EV-R", "2027-04-29"))
    await cases.to_day(WINDOW_DAY + 1)
    outcome = await renew(handle)
    assert outcome.determination == "deny"
    assert "unacceptable_toxicity" in [r.code for r in outcome.reasons]
    assert all(r.policy_ref for r in outcome.reasons)
    # No adverse decision is automated: a reviewer issues it; the case stays in its window.
    status = await handle.query(W.status)
    assert (status.status, status.review_kind) == ("renewal_window", "renewal")
    decided = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(reviewer_id="md-1", determination="deny", rationale="grade 4 CRS"),
    )
    assert decided.accepted and decided.status == "renewal_window"
    await cases.to_day(END_DAY + 2)
    result = await handle.result()
    assert (result.status, result.renewals_used) == ("expired", 0)
    _, notices = await history(handle)
    assert "renewal_refused" in notices and "renewal_approved" not in notices


async def test_grade_3_toxicity_sends_the_renewal_to_review_and_approval_continues_as_new(
    cases,
):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(10)
    paid = await handle.execute_update(W.adjudicate_claim, cases.claim("R-1", "2026-12-05"))
    await cases.to_day(150)
    await handle.signal(W.clinical_event, toxicity("EV-T3", "2027-04-28", "icans", 3))
    await handle.signal(W.clinical_event, response("EV-R", "2027-04-29", "stable"))
    await cases.to_day(WINDOW_DAY + 1)
    outcome = await renew(handle)
    assert (outcome.accepted, outcome.determination) == (True, "review")
    assert (await handle.query(W.status)).review_kind == "renewal"
    approved = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(reviewer_id="md-1", determination="approve", rationale="resolved"),
    )
    assert approved.accepted and approved.status == "active"
    await cases.to_day(WINDOW_DAY + 1.5)
    status = await handle.query(W.status)
    assert status.run == 2  # continued as new at the renewal
    assert status.renewals_used == 1
    periods = (await handle.query(W.periods)).periods
    assert [(p.kind, p.start, p.end, p.first_cycle) for p in periods] == [
        ("initial", date(2026, 12, 3), date(2027, 6, 30), 1),
        ("renewal", date(2027, 7, 1), date(2027, 12, 15), 6),
    ]
    # The state crossed continue-as-new: the same line gets the same answer.
    again = await handle.execute_update(W.adjudicate_claim, cases.claim("R-1", "2026-12-05"))
    assert again == paid
    assert (await handle.query(W.status)).units_paid == 35
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs[AUTH_RENEWALS_USED] == 1
    assert attrs[AUTH_PERIOD_END].date() == date(2027, 12, 15)


async def test_renewal_without_a_reported_response_pends_until_one_is(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(WINDOW_DAY + 1)
    pended = await renew(handle)
    assert pended.determination == "pend"
    assert (await handle.query(W.status)).missing_facts == ["events.response_assessment"]
    await handle.signal(W.clinical_event, response("EV-R", "2027-06-01"))
    await cases.to_day(WINDOW_DAY + 2)
    approved = await renew(handle)
    assert (approved.accepted, approved.determination) == (True, "approve")
    assert approved.period is not None and approved.period.start == date(2027, 7, 1)


async def test_an_extension_moves_the_period_end_and_the_renewal_window(cases):
    handle = await cases.start("relapsed_refractory")
    await cases.to_day(170)
    extended = await handle.execute_update(
        W.extend_period,
        ExtendPeriodInput(reviewer_id="rph-2", days=14, rationale="treatment paused for CRS"),
    )
    assert extended.accepted and extended.period_end == date(2027, 7, 14)
    await cases.to_day(WINDOW_DAY + 1)
    status = await handle.query(W.status)
    assert status.status == "active"  # the window now opens 2027-06-14
    early = await renew(handle)
    assert early.window_opens == date(2027, 6, 14)
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs[AUTH_PERIOD_END].date() == date(2027, 7, 14)
