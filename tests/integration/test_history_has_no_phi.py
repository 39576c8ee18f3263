"""Temporal holds no plaintext PHI (issue #7).

A real case runs on the real dev server with a worker and client that carry
the EncryptionCodec: it is approved, a claim line (with the member id) is
adjudicated, a clinical event arrives. Then a client WITHOUT the codec reads
everything the server keeps or serves for the case, raw: every history event,
the description (memo, search attributes, static summary and details, pending
activities), the visibility record and the UI's metadata query (current
details). The member's first and last name, member id and date of birth are
in none of those bytes; every payload but the search attributes is
encrypted; decrypted, the same payloads do hold the PHI (so the check is not
vacuous); and a client with the codec reads the case normally.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse

import worker
from cases.client import CaseClient
from domain.claim import ClaimLine
from domain.clinical_event import ClinicalEvent
from domain.request import PARequest
from examples import example_requests
from infra.codec import ENCODING, EncryptionCodec, format_key, generate_key
from infra.member_ref import member_ref
from infra.settings import Settings
from tests.case_status import wait_for_status
from tests.raw_temporal import payloads, raw_case
from workflows.authorization import AuthorizationWorkflow
from workflows.messages import CaseInput

pytestmark = pytest.mark.slow

FIRST, LAST = "Philippa", "Vandermeersch"
MEMBER_ID = "MBR-5T7Q2Z9W"
DOB = date(1958, 11, 17)
PHI = {
    "first name": FIRST.encode(),
    "last name": LAST.encode(),
    "member id": MEMBER_ID.encode(),
    "date of birth": DOB.isoformat().encode(),
}
NAMESPACE = "default"


def _request(request_id: str, today: datetime) -> PARequest:
    """The CONTRACT.md example request for the member whose PHI is looked for."""
    return PARequest.model_validate(
        example_requests.request(
            request_id=request_id,
            received_at=today,
            requested_start=today.date(),
            member_id=MEMBER_ID,
            member={"first_name": FIRST, "last_name": LAST, "date_of_birth": DOB.isoformat()},
        )
    )


async def test_raw_temporal_records_of_a_case_hold_no_member_phi(
    dev_server, dev_client, db_pool, task_queue
):
    key = generate_key()
    settings = Settings(
        codec_keys=format_key("k1", key),
        temporal_address=dev_server.address,
        temporal_task_queue=task_queue,
        member_ref_key="test-member-ref-key",
    )
    client = await worker.connect_client(settings)
    assert isinstance(client.data_converter.payload_codec, EncryptionCodec)
    assert dev_client.data_converter.payload_codec is None
    now = datetime.now(UTC)
    request = _request(f"PHI-{task_queue}", now)

    async with worker.build_worker(client, db_pool, settings, task_queue=task_queue):
        cases = CaseClient.from_settings(client, settings, task_queue=task_queue)
        started = await cases.start(request)
        handle = started.handle
        try:
            assert await wait_for_status(handle, "active") == "active"
            answer = await handle.execute_update(
                AuthorizationWorkflow.adjudicate_claim,
                ClaimLine(
                    claim_id="CLM-PHI", line=1, member_id=MEMBER_ID,
                    date_of_service=(now + timedelta(days=1)).date(), hcpcs="J9039",
                    ndc="55513-0160-01", units=35, icd10_codes=["C91.00"],
                ),
            )  # fmt: skip
            assert answer.status == "paid"
            await handle.execute_update(
                AuthorizationWorkflow.record_clinical_event,
                ClinicalEvent.model_validate(
                    {"event_id": "EV-PHI", "type": "weight", "date": now.date().isoformat(),
                     "weight": {"weight_kg": 70.5, "height_cm": 170.0}}
                ),
            )  # fmt: skip
            await asyncio.sleep(0.5)

            raw = await raw_case(dev_client, handle.id)

            # A client with the codec reads the case as usual.
            description = await handle.describe()
            assert request.request_id in (await description.static_summary() or "")
            history = await handle.fetch_history()
            started_input = history.events[0].workflow_execution_started_event_attributes.input
            [case_input] = await client.data_converter.decode(started_input.payloads, [CaseInput])
            assert case_input.request.member.first_name == FIRST
            assert case_input.request.member.date_of_birth == DOB
        finally:
            await handle.terminate(reason="test done")

    # 1. No PHI anywhere in the raw bytes.
    blob = b"".join(message.SerializeToString() for message in raw)
    leaked = [what for what, value in PHI.items() if value in blob]
    assert leaked == [], f"in clear in Temporal: {leaked}"

    # 2. Every payload is encrypted, but the search attributes (which Temporal must read),
    #    the SDK's own local-activity marker bookkeeping (sequence number, attempt,
    #    activity type, times: no user data; the result beside it is encrypted). The
    #    workflow has no workflow.patched markers (its histories were re-recorded, #14).
    found = [(path, p) for message in raw for path, p in payloads(message)]
    assert not [path for path, _ in found if "details[patch-data]" in path]
    clear = [
        path
        for path, p in found
        if p.metadata.get("encoding") != ENCODING
        and "search_attributes" not in path
        and "marker_recorded_event_attributes.details[data]" not in path
    ]
    assert clear == []
    paths = " ".join(path for path, _ in found)
    for where in (
        "input",
        "user_metadata.summary",
        "user_metadata.details",
        "result",
        "query",
        "marker_recorded_event_attributes.details[result]",
    ):
        assert where in paths, f"no payload at {where}: the check would not cover it"

    # 3. The search attributes are PHI-free: MemberRef is the keyed hash.
    [description] = [m for m in raw if isinstance(m, DescribeWorkflowExecutionResponse)]
    attributes = description.workflow_execution_info.search_attributes.indexed_fields
    expected_ref = member_ref(MEMBER_ID, settings.member_ref_key)
    assert attributes["MemberRef"].data == f'"{expected_ref}"'.encode()
    assert MEMBER_ID not in expected_ref

    # 4. Decrypted, those same payloads hold the PHI: the check above is not vacuous.
    codec = client.data_converter.payload_codec
    encrypted = [p for _, p in found if p.metadata.get("encoding") == ENCODING]
    plaintext = b"".join(p.SerializeToString() for p in await codec.decode(encrypted))
    untested = [what for what, value in PHI.items() if value not in plaintext]
    assert untested == [], f"never reached Temporal, so not tested: {untested}"
