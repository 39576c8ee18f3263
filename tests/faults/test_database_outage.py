"""Fault: PostgreSQL is unreachable for a while; activities retry and catch up.

The worker reaches PostgreSQL only through a TCP proxy the test runs. With
cases live and settled, the proxy is stopped: open connections are cut, new
ones refused. While the database is away, claims and clinical events arrive
for the live cases and new cases are submitted; none of it can be recorded,
so none of it may be answered or move on. Once the proxy is back every claim
is answered, every new case settles, and PostgreSQL holds each decision,
claim line, clinical event and notice exactly once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle

from cases.client import CaseClient
from cases.config import case_config
from domain.claim import ClaimAnswer
from infra.devserver import free_port
from tests.faults.fault_stack import (
    PEND,
    REVIEW,
    PgProxy,
    claim,
    days,
    eventually,
    request,
    table_counts,
    through_proxy,
    toxicity_event,
    until_answered,
)
from workflows.authorization import AuthorizationWorkflow

UNITS = 35
CLAIMS_PER_CASE = 2
OUTAGE_S = 8.0
#: Activities retry at 1, 2, 4, 8 ... s: the attempt after an 8 s outage comes within ~8 s.
CATCH_UP_S = 60.0


async def _status(handle: WorkflowHandle) -> str:
    return (await handle.query(AuthorizationWorkflow.status)).status


async def test_database_outage_delays_cases_and_loses_nothing(
    dev_server, dev_client: Client, db_url, db_pool, task_queue, workers, fault_settings
):
    proxy = PgProxy(db_url, free_port())
    await proxy.start()
    try:
        await workers.start(dev_server.address, through_proxy(db_url, proxy.port))
        now = datetime.now(UTC)
        tag = task_queue.removeprefix("tq-")
        config = case_config(fault_settings)

        async def submit(name: str, **changes) -> tuple[WorkflowHandle, str]:
            member_id = f"M-{tag}-{name}"
            started = await CaseClient(
                dev_client, task_queue, config, member_ref_key=fault_settings.member_ref_key
            ).start(request(f"PG-{tag}-{name}", member_id, received_at=now, **changes))
            assert started.created
            return started.handle, member_id

        # Live cases, settled and notified before the outage.
        live = [await submit(f"live{n}") for n in range(4)]
        for handle, _ in live:
            await eventually(lambda h=handle: _active(h), within_s=60, what=f"{handle.id} active")
        live_ids = [h.id for h, _ in live]
        await eventually(
            lambda: _sent(db_pool, live_ids, len(live)), within_s=60, what="approval notices"
        )

        await proxy.stop()
        outage_started = time.monotonic()
        # During the outage: claims and events for the live cases, and new cases.
        answers: dict[tuple[str, int], ClaimAnswer] = {}

        async def claims_system(handle: WorkflowHandle, member_id: str) -> None:
            await eventually(lambda: _active(handle), within_s=120, what=f"{handle.id} active")
            event = toxicity_event(f"EV-{member_id}", now.date())
            for i in range(CLAIMS_PER_CASE):
                line = claim(f"CLM-{member_id}-{i}", member_id, now.date() + days(i), UNITS)
                answers[line.key] = await until_answered(
                    lambda line=line: handle.execute_update(
                        AuthorizationWorkflow.adjudicate_claim, line
                    )
                )
                await until_answered(
                    lambda: handle.signal(AuthorizationWorkflow.clinical_event, event)
                )

        traffic = [asyncio.create_task(claims_system(h, m)) for h, m in live]
        new_approved = [await submit(f"new{n}") for n in range(3)]
        pended, _ = await submit("pended", **PEND)
        review, _ = await submit("review", **REVIEW)
        traffic += [asyncio.create_task(claims_system(h, m)) for h, m in new_approved]

        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_started)))
        # Nothing could be recorded, so nothing was answered and no new case moved on.
        assert answers == {}
        for handle in (*(h for h, _ in new_approved), pended, review):
            assert await _status(handle) == "received"
        connections_before = proxy.connections

        await proxy.start()
        back = time.monotonic()
        done, pending = await asyncio.wait(traffic, timeout=CATCH_UP_S)
        for task in pending:
            task.cancel()
        assert not pending, f"{len(answers)} claims answered after the outage\n{workers.logs()}"
        for task in done:
            task.result()
        await eventually(lambda: _is(pended, "pended"), within_s=CATCH_UP_S, what="pended")
        await eventually(lambda: _is(review, "in_review"), within_s=CATCH_UP_S, what="review")
        caught_up = time.monotonic() - back
        assert proxy.connections > connections_before  # the worker did reconnect

        approved = [*live, *new_approved]
        ids = [h.id for h, _ in approved] + [pended.id, review.id]
        notices = {h.id: ["approval"] for h, _ in approved} | {
            pended.id: ["pend"],
            review.id: ["review_assignment"],
        }
        await eventually(
            lambda: _sent(db_pool, ids, sum(map(len, notices.values()))),
            within_s=CATCH_UP_S,
            what="every notice sent",
        )

        async def projected() -> bool:
            rows = await db_pool.fetch(
                "SELECT case_id, status, units_paid FROM authorizations WHERE case_id = ANY($1)",
                ids,
            )
            want = {h.id: ("active", UNITS * CLAIMS_PER_CASE) for h, _ in approved}
            want |= {pended.id: ("pended", 0), review.id: ("in_review", 0)}
            return {r["case_id"]: (r["status"], r["units_paid"]) for r in rows} == want

        await eventually(projected, within_s=CATCH_UP_S, what="every case projected")
        async with db_pool.acquire() as conn:
            counts = await table_counts(conn, ids)
            stored = await conn.fetch(
                "SELECT claim_id, line, answer FROM claim_lines WHERE case_id = ANY($1)", ids
            )
            notice_rows = await conn.fetch(
                "SELECT case_id, kind, status FROM notifications WHERE case_id = ANY($1)", ids
            )
        assert counts["decisions"] == dict.fromkeys(ids, 1)
        assert counts["authorizations"] == dict.fromkeys(ids, 1)
        assert counts["claim_lines"] == {
            i: CLAIMS_PER_CASE if i not in (pended.id, review.id) else 0 for i in ids
        }
        assert counts["clinical_events"] == {i: int(i not in (pended.id, review.id)) for i in ids}
        assert sorted((r["case_id"], r["kind"], r["status"]) for r in notice_rows) == sorted(
            (case_id, kind, "sent") for case_id, kinds in notices.items() for kind in kinds
        )
        assert len(answers) == len(stored) == CLAIMS_PER_CASE * len(approved)
        for row in stored:
            given = answers[(row["claim_id"], row["line"])]
            assert ClaimAnswer.model_validate(row["answer"]) == given
            assert given.allowed_units == UNITS
        for handle, _ in approved:
            units = await handle.query(AuthorizationWorkflow.units)
            assert units.units_paid == UNITS * CLAIMS_PER_CASE
        print(f"caught up {caught_up:.1f}s after an outage of {OUTAGE_S:.0f}s")
    finally:
        await proxy.stop()


async def _active(handle: WorkflowHandle) -> bool:
    return await _status(handle) == "active"


async def _is(handle: WorkflowHandle, status: str) -> bool:
    return await _status(handle) == status


async def _sent(pool, case_ids: list[str], expected: int) -> bool:
    sent = await pool.fetchval(
        "SELECT count(*) FROM notifications WHERE case_id = ANY($1) AND status = 'sent'", case_ids
    )
    return sent == expected
