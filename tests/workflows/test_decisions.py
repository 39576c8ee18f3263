"""The initial decision and what follows it (DESIGN.md, Case statuses; POLICY.md Section III).

pend -> info -> approve; pend deadline -> review with escalation; review ->
denial -> appeal to another reviewer -> approval; automatic denial (a setting)
ending unappealed; Medicare Part B; withdrawal; refusals in the wrong state.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from cases.client import CaseClient
from infra.settings import Settings
from infra.temporal import AUTH_ESCALATED, AUTH_PERIOD_END, AUTH_STATUS, AUTH_TRACK, MEMBER_REF
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import (
    ALREADY_DECIDED,
    AppealInput,
    ProvideInfoInput,
    ReviewDecisionInput,
    WithdrawInput,
)


async def statuses(handle) -> list[str]:
    return [c.status for c in (await handle.query(W.history)).status_changes]


async def notices(handle) -> list[str]:
    return [n.kind for n in (await handle.query(W.history)).notifications]


async def test_pended_request_is_approved_when_the_missing_fact_arrives(cases, db_pool):
    handle = await cases.start("mrd_positive", diagnosis={"mrd_percent": None})
    await cases.to_day(0.5)
    status = await handle.query(W.status)
    assert status.status == "pended"
    assert status.missing_facts == ["diagnosis.mrd_percent"]
    assert status.pend_deadline is not None

    with pytest.raises(WorkflowUpdateFailedError):  # the validator: not a valid value
        await handle.execute_update(
            W.provide_info, ProvideInfoInput(facts={"diagnosis.mrd_percent": "lots"})
        )
    with pytest.raises(WorkflowUpdateFailedError) as fixed:  # facts never re-key the case
        await handle.execute_update(
            W.provide_info,
            ProvideInfoInput(facts={"diagnosis.mrd_percent": 0.4, "member.member_id": "M-2"}),
        )
    assert "member.member_id" in str(fixed.value.cause) and "M-2" not in str(fixed.value.cause)
    assert (await handle.query(W.status)).status == "pended"

    await cases.to_day(3)
    outcome = await handle.execute_update(
        W.provide_info, ProvideInfoInput(facts={"diagnosis.mrd_percent": 0.4})
    )
    assert outcome.accepted and outcome.determination == "approve"
    assert outcome.status == "active"
    status = await handle.query(W.status)
    assert status.track == "mrd_positive"
    assert status.period_start == date(2026, 12, 3)  # a later decision does not move it
    assert await statuses(handle) == ["received", "pended", "active"]
    assert await notices(handle) == ["pend", "approval"]
    kinds = await db_pool.fetch(
        "SELECT kind, determination, request, prior_cycles FROM decisions WHERE case_id = $1 "
        "ORDER BY id",
        handle.id,
    )
    assert [(r["kind"], r["determination"]) for r in kinds] == [
        ("initial", "pend"),
        ("info", "approve"),
    ]
    # Each row keeps the facts it was decided on (policy impact re-decides the latest).
    assert [r["request"]["diagnosis"].get("mrd_percent") for r in kinds] == [None, 0.4]
    assert [r["prior_cycles"] for r in kinds] == [0, 0]
    desc = await handle.describe()
    assert desc.typed_search_attributes[AUTH_STATUS] == "active"
    assert desc.typed_search_attributes[AUTH_TRACK] == "mrd_positive"
    assert desc.typed_search_attributes[AUTH_PERIOD_END].date() == date(2027, 5, 19)
    assert desc.typed_search_attributes[MEMBER_REF].startswith("m_")


async def test_pend_deadline_sends_the_case_to_review_and_escalates_before_the_clock(cases):
    handle = await cases.start("mrd_positive", diagnosis={"mrd_percent": None})
    await cases.to_day(14.5)  # the 14-day pend deadline passed
    status = await handle.query(W.status)
    assert status.status == "in_review"
    assert status.review_kind == "initial"
    assert not status.escalated
    await cases.to_day(14.5 + 2.6)  # 72 h clock, escalated 12 h before it runs out
    status = await handle.query(W.status)
    assert status.escalated
    assert (await handle.describe()).typed_search_attributes[AUTH_ESCALATED] is True
    assert await notices(handle) == ["pend", "review_assignment", "escalation"]
    outcome = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(reviewer_id="rph-1", determination="approve", rationale="MRD 0.3%"),
    )
    assert outcome.accepted and outcome.status == "active"
    assert (await handle.describe()).typed_search_attributes[AUTH_ESCALATED] is False


async def test_review_denial_is_appealed_to_another_reviewer_who_approves(cases, db_pool):
    # 20 years old, Ph-like single-agent consolidation (a pediatric use): the AYA note
    # ("up to 30") sends it to clinical review.
    handle = await cases.start(
        "consolidation",
        member={"date_of_birth": "2006-06-01"},
        diagnosis={"ph_status": "ph_like"},
        therapy={"combined_with": []},
    )
    await cases.to_day(0.5)
    assert (await handle.query(W.status)).status == "in_review"

    refused = await handle.execute_update(W.appeal, AppealInput(reason="too soon"))
    assert not refused.accepted and "denied" in refused.reason

    await cases.to_day(1)
    denied = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(
            reviewer_id="rph-1", determination="deny", rationale="not AYA-eligible"
        ),
    )
    assert denied.accepted and denied.status == "denied"
    status = await handle.query(W.status)
    assert (status.appeal_deadline.date() - date(2026, 12, 2)).days == 180  # commercial

    await cases.to_day(20)
    appealed = await handle.execute_update(W.appeal, AppealInput(reason="oncologist's letter"))
    assert appealed.accepted and appealed.status == "in_review"

    same = await handle.execute_update(
        W.decide_review, ReviewDecisionInput(reviewer_id="rph-1", determination="approve")
    )
    assert not same.accepted and "other than the one who denied" in same.reason

    approved = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(reviewer_id="md-2", determination="approve", rationale="letter"),
    )
    assert approved.accepted and approved.status == "active"
    assert (await handle.query(W.status)).period_start == date(2026, 12, 3)
    assert await statuses(handle) == [
        "received",
        "in_review",
        "denied",
        "appealed",
        "in_review",
        "active",
    ]
    assert await notices(handle) == [
        "review_assignment",
        "denial",
        "appeal_received",
        "review_assignment",
        "approval",
    ]
    rows = await db_pool.fetch(
        "SELECT kind, determination, reviewer_id FROM decisions WHERE case_id = $1 ORDER BY id",
        handle.id,
    )
    assert [(r["kind"], r["determination"], r["reviewer_id"]) for r in rows] == [
        ("initial", "review", None),
        ("review", "deny", "rph-1"),
        ("appeal", "approve", "md-2"),
    ]


async def test_engine_denial_goes_to_a_reviewer_by_default(cases):
    handle = await cases.start("relapsed_refractory", diagnosis={"b_cell_precursor": False})
    await cases.to_day(0.5)
    status = await handle.query(W.status)
    assert status.status == "in_review"
    assert status.determination == "deny"
    # The reviewer may still approve: the requested setting's track and its terms.
    approved = await handle.execute_update(
        W.decide_review,
        ReviewDecisionInput(reviewer_id="md-1", determination="approve", rationale="B-ALL"),
    )
    assert approved.accepted and approved.status == "active"
    status = await handle.query(W.status)
    assert (status.track, status.period_end, status.units_authorized) == (
        "relapsed_refractory",
        date(2027, 6, 30),
        4900,
    )


async def test_automatic_denial_closes_as_denied_when_the_appeal_window_passes(cases):
    cases.settings = Settings(notify_channel="log", auto_deny_lines_of_business="medicaid")
    handle = await cases.start(
        "relapsed_refractory", line_of_business="medicaid", diagnosis={"b_cell_precursor": False}
    )
    await cases.to_day(0.5)
    assert (await handle.query(W.status)).status == "denied"
    await cases.to_day(61)  # medicaid: 60-day appeal window
    result = await handle.result()
    assert result.status == "denied"
    assert await statuses(handle) == ["received", "denied"]


async def test_medicare_part_b_is_not_applicable_and_names_the_contractor(cases):
    handle = await cases.start("relapsed_refractory", line_of_business="medicare_part_b")
    result = await handle.result()
    assert result.status == "not_applicable"
    assert await notices(handle) == ["not_applicable"]


async def test_withdrawal_ends_an_active_case(cases):
    handle = await cases.start("consolidation")
    await cases.to_day(5)
    nothing = await handle.execute_update(
        W.decide_review, ReviewDecisionInput(reviewer_id="rph-1", determination="approve")
    )
    assert not nothing.accepted and nothing.reason == "no review is open: the case is active"
    outcome = await handle.execute_update(W.withdraw, WithdrawInput(reason="changed plans"))
    assert outcome.accepted and outcome.status == "withdrawn"
    result = await handle.result()
    assert result.status == "withdrawn"
    assert await statuses(handle) == ["received", "active", "withdrawn"]
    assert (await handle.describe()).typed_search_attributes[AUTH_STATUS] == "withdrawn"


async def test_starting_the_same_request_twice_is_one_case(cases):
    first = await cases.start("consolidation", request_id="REQ-TWICE")
    second = await cases.start("consolidation", request_id="REQ-TWICE")
    assert first.id == second.id == "pa-REQ-TWICE"
    await cases.to_day(0.5)
    assert (await second.query(W.status)).status == "active"


async def test_first_decision_answers_an_update_with_start_once_the_case_has_decided(
    cases, db_pool
):
    """/work/interfaces.md: update-with-start on ``first_decision``; a repeat, the same case."""
    import uuid

    from temporalio.client import WithStartWorkflowOperation
    from temporalio.common import WorkflowIDConflictPolicy

    from cases.config import case_config
    from domain.request import PARequest
    from examples import example_requests
    from workflows.messages import CaseInput

    request = PARequest.model_validate(
        example_requests.request(request_id=f"REQ-{uuid.uuid4().hex[:10]}")
    )
    config = case_config(cases.settings, clock_anchor=await cases.env.get_current_time())
    workflow_id = f"pa-{request.request_id}"
    cases.workflow_ids.append(workflow_id)

    async def submit():
        return await cases.env.client.execute_update_with_start_workflow(
            W.first_decision,
            start_workflow_operation=WithStartWorkflowOperation(
                W.run,
                CaseInput(request=request, member_ref="m_first", config=config),
                id=workflow_id,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                task_queue=cases.task_queue,
            ),
        )

    first = await submit()
    assert first.first_submission  # the update that came with the start
    assert first.view.status == "active" and first.view.case_id == workflow_id
    assert first.view.track == "relapsed_refractory" and first.view.period_end == date(2027, 6, 30)
    handle = cases.env.client.get_workflow_handle(workflow_id)
    events_before = len((await handle.fetch_history()).events)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await submit()  # a repeat of a decided case: refused by the validator, unwritten
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == ALREADY_DECIDED
    grown = (await handle.fetch_history()).events[events_before:]
    # No update is written (the time-skipping server records the task that refused it;
    # the real server's speculative task leaves nothing: tests/e2e/test_api_cases.py).
    assert not [e for e in grown if "UPDATE" in EventType.Name(e.event_type)]
    client = CaseClient.from_settings(cases.env.client, cases.settings, task_queue=cases.task_queue)
    again = await client.submit(request, config=config, member_ref="m_first")
    assert not again.created  # the typed client answers the repeat from the status query
    assert again.view is not None and again.view.case_id == workflow_id
    recorded = await db_pool.fetchval(
        "SELECT count(*) FROM decisions WHERE case_id = $1", workflow_id
    )
    assert recorded == 1  # decided and recorded once, in one local activity


async def test_of_concurrent_submissions_of_one_request_exactly_one_is_the_first(cases):
    """Update-with-start races: the one whose start made the case is first, no other."""
    import uuid

    from cases.client import CaseClient
    from domain.request import PARequest
    from examples import example_requests

    request = PARequest.model_validate(
        example_requests.request(request_id=f"REQ-{uuid.uuid4().hex[:10]}")
    )
    client = CaseClient.from_settings(
        cases.env.client,
        cases.settings,
        task_queue=cases.task_queue,
        clock_anchor=await cases.env.get_current_time(),
    )
    cases.workflow_ids.append(f"pa-{request.request_id}")
    answers = await asyncio.gather(*(client.submit(request) for _ in range(4)))
    assert [a.created for a in answers].count(True) == 1
    assert {(a.case_id, a.status) for a in answers} == {(f"pa-{request.request_id}", "active")}


async def test_a_decision_is_one_local_activity_that_writes_its_notice_and_projection(
    cases, db_pool
):
    """The hot path: no activity the server dispatches, before the decision or after it,
    and one local activity in all — ``decide_request`` records the decision and, in the
    same transaction, the approval notice into the outbox and the case's projection; the
    worker's outbox dispatcher delivers the notice."""
    import json

    handle = await cases.start()
    assert (await handle.query(W.status)).status in ("received", "active")
    await cases.to_day(0.1)
    events = [e async for e in handle.fetch_history_events()]
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    local = [
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert scheduled == []
    assert [m["activity_type"] for m in local] == ["decide_request"]
    assert (await handle.query(W.status)).status == "active"
    row = await db_pool.fetchrow(
        "SELECT status, version FROM authorizations WHERE case_id = $1", handle.id
    )
    assert (row["status"], row["version"]) == ("active", 1)
    kinds = await db_pool.fetch("SELECT kind FROM notifications WHERE case_id = $1", handle.id)
    assert [k["kind"] for k in kinds] == ["approval"]
    sent = "SELECT count(*) FROM notifications WHERE case_id = $1 AND status = 'sent'"
    for _ in range(200):  # the worker's dispatcher delivers it (10 s at most)
        if await db_pool.fetchval(sent, handle.id):
            break
        await asyncio.sleep(0.05)
    assert await db_pool.fetchval(sent, handle.id) == 1
