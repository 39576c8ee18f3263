"""A reviewer's limited approval and review clock extension on a running case (#16, #17).

Time-skipping server and real PostgreSQL: an extension re-arms the clock (the
original due time passes without escalation, the extended one escalates), is a
decision row of kind ``review_extension``, and ``priorauth report metrics``
counts the case approved after it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from commands.report import fetch_cases, summarize
from infra.temporal import AUTH_ESCALATED
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import ExtendReviewInput, ReviewDecisionInput

REVIEW = {
    "member": {"date_of_birth": "2006-06-01"},
    "diagnosis": {"ph_status": "ph_like"},
    "therapy": {"combined_with": []},
}


async def notices(handle) -> list[str]:
    return [n.kind for n in (await handle.query(W.history)).notifications]


async def test_an_extended_review_escalates_on_its_new_clock_and_counts_in_the_metrics(
    cases, db_pool, db_url
):
    handle = await cases.start("consolidation", **REVIEW)
    await cases.to_day(0.5)
    status = await handle.query(W.status)
    assert status.status == "in_review" and status.review_due is not None
    due = status.review_due

    with pytest.raises(WorkflowUpdateFailedError) as blank:  # the validator: a reason
        await handle.execute_update(
            W.extend_review, ExtendReviewInput(days=5, reason="   ", reviewer_id="rph-1")
        )
    assert "reason" in str(blank.value.cause)
    extended = await handle.execute_update(
        W.extend_review,
        ExtendReviewInput(days=5, reason="waiting for the marrow report", reviewer_id="rph-1"),
    )
    assert extended.accepted and extended.due_at == due + timedelta(days=5)
    with pytest.raises(WorkflowUpdateFailedError) as again:  # once per review: Conflict
        await handle.execute_update(
            W.extend_review, ExtendReviewInput(days=1, reason="more", reviewer_id="rph-1")
        )
    assert "already extended" in str(again.value.cause)

    await cases.to_day(3.5)  # the original clock ran out: no escalation, not overdue
    status = await handle.query(W.status)
    assert not status.escalated and status.review_due == due + timedelta(days=5)
    assert "escalation" not in await notices(handle)
    await cases.to_day(7.7)  # 12 h before the extended clock runs out
    assert (await handle.query(W.status)).escalated
    assert (await handle.describe()).typed_search_attributes[AUTH_ESCALATED] is True
    assert await notices(handle) == ["review_assignment", "review_extended", "escalation"]

    approved = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(reviewer_id="md-1", determination="approve", rationale="AYA"),
    )
    assert approved.accepted and approved.status == "active"
    row = await db_pool.fetchrow(
        "SELECT determination, reviewer_id, rationale, extends_review, due_at FROM decisions "
        "WHERE case_id = $1 AND kind = 'review_extension'",
        handle.id,
    )
    assert dict(row) == {
        "determination": "extended",
        "reviewer_id": "rph-1",
        "rationale": "waiting for the marrow report",
        "extends_review": "initial",
        "due_at": due + timedelta(days=5),
    }
    decided = await fetch_cases(db_url, date(2026, 1, 1), date(2027, 12, 31))
    metrics = summarize([c for c in decided if c.case_id == handle.id])
    assert (metrics.extended, metrics.approved_after_extension) == (1, 1)
    assert metrics.percent_approved_after_extension == 100.0


async def test_a_reviewer_approves_fewer_units_and_a_shorter_period(cases, db_pool):
    handle = await cases.start("consolidation", **REVIEW)
    await cases.to_day(0.5)
    with pytest.raises(WorkflowUpdateFailedError) as too_many:  # beyond the track's terms
        await handle.execute_update(
            W.decide_review,
            ReviewDecisionInput(
                reviewer_id="md-1",
                determination="approve",
                rationale="AYA",
                authorized_units=1_000_000,
            ),
        )
    assert "Section II" in str(too_many.value.cause)
    assert (await handle.query(W.status)).status == "in_review"

    limited = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(
            reviewer_id="md-1",
            determination="approve",
            rationale="one cycle first",
            authorized_units=100,
            period_end=date(2027, 1, 15),
        ),
    )
    assert limited.accepted and limited.authorized_units == 100
    assert limited.period_end == date(2027, 1, 15)
    status = await handle.query(W.status)
    assert (status.units_authorized, status.period_end) == (100, date(2027, 1, 15))
    row = await db_pool.fetchrow(
        "SELECT granted FROM decisions WHERE case_id = $1 AND kind = 'review'", handle.id
    )
    assert row["granted"]["authorized_units"] == 100 and row["granted"]["end"] == "2027-01-15"
    auth = await db_pool.fetchrow(
        "SELECT units_authorized FROM authorizations WHERE case_id = $1", handle.id
    )
    assert auth["units_authorized"] == 100
