"""A submission whose first decision does not come in time (no worker polls): the case is
started and kept, the answer says so, and only the submission that started it is told it did
(cases/client.py: the token in the case's input, read back from its history)."""

from __future__ import annotations

from datetime import timedelta

from cases.client import CaseClient
from examples.example_requests import parequest
from infra.settings import Settings
from workflows.messages import CaseInput


async def test_a_submission_not_answered_in_time_is_started_once_and_told_so(
    dev_server, dev_client, task_queue
):
    cases = CaseClient.from_settings(
        dev_client, Settings(member_ref_key="test-member-ref-key"), task_queue=task_queue
    )
    request = parequest().model_copy(update={"request_id": f"NOWORKER-{task_queue}"})
    wait = timedelta(seconds=1)

    first = await cases.submit(request, wait=wait)
    again = await cases.submit(request, wait=wait)

    assert (first.case_id, first.created, first.view) == (f"pa-{request.request_id}", True, None)
    assert (again.case_id, again.created, again.view) == (first.case_id, False, None)
    handle = dev_client.get_workflow_handle(first.case_id)
    try:
        # Nothing accepted is lost: the case waits for a worker, with the first token.
        description = await handle.describe()
        assert description.status is not None and description.status.name == "RUNNING"
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [inp] = await dev_client.data_converter.decode(started.input.payloads, [CaseInput])
        assert inp.request.request_id == request.request_id
        assert inp.submission is not None
        assert not started.HasField("memo") or not started.memo.fields
    finally:
        await handle.terminate(reason="test done")
