"""A case accepted before the strict rules keeps running (domain.strict, "Recorded data").

Its request (an id with a space, a drug no policy covers) is refused at the
edge today, but the case's own payloads decode in the worker's sandbox and
its history replays; new input to it is judged strictly, its recorded request
is not.
"""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowUpdateFailedError

from cases.config import case_config
from domain.case_id import case_id
from domain.clinical_event import ClinicalEvent
from domain.request import PARequest
from domain.strict import RECORDED
from examples import example_requests
from workflows.authorization import AuthorizationWorkflow as W
from workflows.messages import CaseInput, ProvideInfoInput


async def test_a_case_accepted_under_the_old_rules_still_runs(cases, time_skipping_env):
    data = example_requests.request(
        "mrd_positive", request_id=f"OLD {uuid.uuid4().hex[:8]}", diagnosis={"mrd_percent": None}
    )
    data["service"]["hcpcs"] = "J9999"
    request = PARequest.model_validate(data, context=RECORDED)
    cases.anchor = await time_skipping_env.get_current_time()
    # Started as cases were then: no policy_ref (the case client now refuses a drug no
    # policy covers), so the case is Blincyto's, the one policy served then.
    handle = await time_skipping_env.client.start_workflow(
        W.run,
        CaseInput(
            request=request,
            member_ref="m-old",
            config=case_config(cases.settings, clock_anchor=cases.anchor),
        ),
        id=case_id(request.request_id),
        task_queue=cases.task_queue,
    )
    cases.workflow_ids.append(handle.id)  # replayed at teardown
    await cases.to_day(1)
    assert (await handle.query(W.status)).status == "pended"

    with pytest.raises(WorkflowUpdateFailedError):  # new facts are judged strictly
        await handle.execute_update(
            W.provide_info, ProvideInfoInput(facts={"diagnosis.mrd_percent": "0.4"})
        )
    done = await handle.execute_update(
        W.provide_info, ProvideInfoInput(facts={"diagnosis.mrd_percent": 0.4})
    )
    assert (done.accepted, done.status) == (True, "active")
    event = ClinicalEvent(event_id="EV-1", type="live_vaccine", date="2026-12-02")
    assert (await handle.execute_update(W.record_clinical_event, event)).accepted
