"""Smoke: a case runs through the real Temporal dev server and lands in the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cases.client import CaseClient
from domain.claim import ClaimLine
from domain.request import PARequest
from examples import example_requests
from infra.settings import Settings
from worker import build_worker


def _request(request_id: str, today: datetime) -> PARequest:
    """The CONTRACT.md example request, received and starting ``today``."""
    return example_requests.parequest(
        request_id=request_id, received_at=today, requested_start=today.date(), member_id="M-SMOKE"
    )


async def test_an_approvable_request_becomes_an_active_case_recorded_in_postgres(
    dev_client, db_pool, task_queue
):
    settings = Settings(temporal_task_queue=task_queue)
    now = datetime.now(UTC)
    request = _request(f"SMOKE-{task_queue}", now)

    cases = CaseClient.from_settings(dev_client, settings)
    async with build_worker(dev_client, db_pool, settings, task_queue=task_queue):
        submitted = await cases.submit(request)
        assert submitted.created
        assert submitted.status == "active"  # the first decision, in the submission's answer

        answer = await cases.adjudicate_claim(
            submitted.case_id,
            ClaimLine(
                claim_id="CLM-SMOKE", line=1, member_id="M-SMOKE",
                date_of_service=(now + timedelta(days=1)).date(), hcpcs="J9039",
                ndc="55513-0160-01", units=35, icd10_codes=["C91.00"],
            ),
        )  # fmt: skip
        assert answer.status == "paid" and answer.allowed_units == 35

    case_id = submitted.case_id
    async with db_pool.acquire() as conn:
        decision = await conn.fetchrow(
            "SELECT determination, policy_id FROM decisions WHERE case_id = $1", case_id
        )
        projection = await conn.fetchrow(
            "SELECT status, track FROM authorizations WHERE case_id = $1", case_id
        )
        claim = await conn.fetchrow(
            "SELECT allowed_units FROM claim_lines WHERE claim_id = 'CLM-SMOKE' AND line = 1"
        )
    assert decision["determination"] == "approve"
    assert decision["policy_id"] == "OHSU-HEALTHSERVICES-0382"
    assert (projection["status"], projection["track"]) == ("active", "relapsed_refractory")
    assert claim["allowed_units"] == 35
