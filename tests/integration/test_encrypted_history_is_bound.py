"""Encrypted payloads belong to one case: the worker reads its own, refuses moved or plain ones.

Real cases on the real dev server, with a worker and client carrying the
EncryptionCodec (plain payloads refused):

- every encrypted payload in a case's history names that case's workflow id, and
  the whole history replays under the same strict codec (the SDK hands the codec
  the same workflow id on replay as when it wrote);
- a signal whose payload is copied, as raw ciphertext, from case A's history into
  case B is refused by B's worker (its workflow task fails, the event is not
  recorded), and so is an unencrypted signal sent by a client without the codec.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle

import worker
from cases.client import CaseClient
from domain.clinical_event import ClinicalEvent
from domain.request import PARequest
from examples import example_requests
from infra.codec import ENCODING, WORKFLOW_ID_METADATA, format_key, generate_key
from infra.settings import Settings
from tests.case_status import wait_for_status
from tests.replaying import replay_failure
from workflows.authorization import AuthorizationWorkflow

pytestmark = pytest.mark.slow

NAMESPACE = "default"


def _request(request_id: str, now: datetime) -> PARequest:
    return PARequest.model_validate(
        example_requests.request(request_id=request_id, received_at=now, requested_start=now.date())
    )


def _event(event_id: str, now: datetime) -> ClinicalEvent:
    return ClinicalEvent.model_validate(
        {"event_id": event_id, "type": "weight", "date": now.date().isoformat(),
         "weight": {"weight_kg": 70.5, "height_cm": 170.0}}
    )  # fmt: skip


async def _raw_signal(client: Client, workflow_id: str, payloads: Payloads) -> None:
    await client.workflow_service.signal_workflow_execution(
        SignalWorkflowExecutionRequest(
            namespace=NAMESPACE,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            signal_name="clinical_event",
            input=payloads,
            identity="someone with gRPC access",
        )
    )


async def _task_failures(client: Client, handle: WorkflowHandle, within_s: float = 15.0):
    """The decoded messages of the case's failed workflow tasks (waits for the first)."""
    failures: list[str] = []
    for _ in range(int(within_s / 0.2)):
        history = await handle.fetch_history()
        failures = [
            str(await client.data_converter.decode_failure(attrs.failure))
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            for attrs in [e.workflow_task_failed_event_attributes]
        ]
        if failures:
            return failures
        await asyncio.sleep(0.2)
    return failures


def _keyed_settings(dev_server, task_queue: str) -> Settings:
    """Settings with a fresh codec key: the worker and client encrypt, bound and strict."""
    return Settings(
        codec_keys=format_key("k1", generate_key()),
        temporal_address=dev_server.address,
        temporal_task_queue=task_queue,
        member_ref_key="test-member-ref-key",
    )


async def test_a_history_is_bound_to_its_case_and_replays_under_the_strict_codec(
    dev_server, db_pool, task_queue
):
    settings = _keyed_settings(dev_server, task_queue)
    client = await worker.connect_client(settings)
    now = datetime.now(UTC)

    async with worker.build_worker(client, db_pool, settings, task_queue=task_queue):
        cases = CaseClient.from_settings(client, settings, task_queue=task_queue)
        case = await cases.start(_request(f"BIND-{task_queue}", now))
        try:
            assert await wait_for_status(case.handle, "active") == "active"
            await case.handle.signal(AuthorizationWorkflow.clinical_event, _event("EV-1", now))
            await case.handle.query(AuthorizationWorkflow.status)
            history = await case.handle.fetch_history()
        finally:
            await case.handle.terminate(reason="test done")

    encrypted = [
        p for e in history.events for p in _payloads_of(e) if p.metadata.get("encoding") == ENCODING
    ]
    assert len(encrypted) > 5
    assert {p.metadata.get(WORKFLOW_ID_METADATA) for p in encrypted} == {case.case_id.encode()}

    assert await replay_failure(history, client.data_converter) is None


async def test_a_ciphertext_moved_to_another_case_and_a_plain_signal_are_refused(
    dev_server, dev_client, db_pool, task_queue
):
    settings = _keyed_settings(dev_server, task_queue)
    client = await worker.connect_client(settings)
    now = datetime.now(UTC)
    cases = CaseClient.from_settings(client, settings, task_queue=task_queue)

    async with worker.build_worker(client, db_pool, settings, task_queue=task_queue):
        a = await cases.start(_request(f"A-{task_queue}", now))
        b = await cases.start(_request(f"B-{task_queue}", now))
        c = await cases.start(_request(f"C-{task_queue}", now))
        try:
            for case in (a, b, c):
                assert await wait_for_status(case.handle, "active") == "active"
            await a.handle.signal(AuthorizationWorkflow.clinical_event, _event("EV-A", now))
            await a.handle.query(AuthorizationWorkflow.status)
            history = await a.handle.fetch_history()
            [signal_input] = [
                e.workflow_execution_signaled_event_attributes.input
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
            ]
            assert signal_input.payloads[0].metadata[WORKFLOW_ID_METADATA] == a.case_id.encode()

            # Case B gets A's ciphertext; case C a plain payload from a codec-less client.
            await _raw_signal(client, b.case_id, signal_input)
            await dev_client.get_workflow_handle(c.case_id).signal(
                "clinical_event", _event("EV-PLAIN", now)
            )

            moved = await _task_failures(client, b.handle)
            plain = await _task_failures(client, c.handle)
            rows = await db_pool.fetchval(
                "SELECT count(*) FROM clinical_events WHERE case_id = ANY($1::text[])",
                [b.case_id, c.case_id],
            )
        finally:
            for case in (a, b, c):
                await case.handle.terminate(reason="test done")

    assert moved and all(f"belongs to workflow '{a.case_id}'" in m for m in moved), moved
    assert plain and all("not encrypted" in m for m in plain), plain
    assert rows == 0


def _payloads_of(event):
    """Every Payload inside one history event (any depth)."""
    from google.protobuf.message import Message
    from temporalio.api.common.v1 import Payload

    stack: list[Message] = [event]
    while stack:
        message = stack.pop()
        if isinstance(message, Payload):
            yield message
            continue
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                stack.extend(v for v in value.values() if isinstance(v, Message))
            elif isinstance(value, Message):
                stack.append(value)
            else:
                stack.extend(v for v in value if isinstance(v, Message))
