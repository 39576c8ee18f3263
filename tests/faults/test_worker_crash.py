"""Fault: the worker is killed with SIGKILL in the middle of a batch and started again.

A batch of cases of five kinds is submitted; claim lines and clinical events
then arrive for the approved ones the way a claims system and a clinical
system send them: each until it is answered, so one cut off by the crash is
sent again with the same content. The worker is killed with that traffic in
flight, more cases and a withdrawal arrive while no worker runs, a new worker
is started, and then every case must reach the status its kind settles in,
and PostgreSQL must hold exactly one row per decision, claim line, clinical
event and notice: nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle

from cases.client import CaseClient
from cases.config import case_config
from domain.claim import ClaimAnswer, ClaimLine
from tests.faults.fault_stack import (
    NOT_APPLICABLE,
    PEND,
    REVIEW,
    WebhookReceiver,
    claim,
    days,
    eventually,
    request,
    table_counts,
    toxicity_event,
    until_answered,
)
from workflows.authorization import AuthorizationWorkflow
from workflows.messages import WithdrawInput

CLAIMS_PER_CASE = 3
UNITS = 35
#: kind -> (settled status, (kind, determination) of each of its decisions, its notices);
#: a withdrawal is a decision row of its own, recording who withdrew.
KINDS: dict[str, tuple[str, list[tuple[str, str]], list[str]]] = {
    "approved": ("active", [("initial", "approve")], ["approval"]),
    "pended": ("pended", [("initial", "pend")], ["pend"]),
    "review": ("in_review", [("initial", "deny")], ["review_assignment"]),
    "not_applicable": ("not_applicable", [("initial", "not_applicable")], ["not_applicable"]),
    "withdrawn": (
        "withdrawn",
        [("initial", "pend"), ("withdrawal", "withdrawn")],
        ["pend", "withdrawn"],
    ),
}
CHANGES = {
    "approved": {},
    "pended": PEND,
    "review": REVIEW,
    "not_applicable": NOT_APPLICABLE,
    "withdrawn": PEND,
}
#: Cases of each kind before the crash and while no worker runs (20 in all).
FIRST_WAVE = {"approved": 10, "pended": 2, "review": 2, "not_applicable": 1, "withdrawn": 1}
WHILE_DOWN = {"approved": 2, "pended": 1, "not_applicable": 1}
#: How long a crash may keep one case from answering claims: the restart and a
#: workflow task retry; not the time Temporal takes to give up a lost delivery.
CRASH_BOUND_S = 45.0
#: A restart, plus the 30 s timeout of each activity the killed worker held, plus a retry.
RECOVERY_S = 120.0


@dataclass
class Case:
    kind: str
    member_id: str
    handle: WorkflowHandle
    claims: list[ClaimLine] = field(default_factory=list)
    answers: dict[tuple[str, int], ClaimAnswer] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.handle.id


async def _is(handle: WorkflowHandle, status: str) -> bool:
    return (await handle.query(AuthorizationWorkflow.status)).status == status


async def _claims_system(case: Case, answered: list[str]) -> None:
    """Claim lines one after the other; the clinical event sent twice (a repeat)."""
    await eventually(
        lambda: _is(case.handle, "active"), within_s=RECOVERY_S, what=f"{case.id} active"
    )
    event = toxicity_event(f"EV-{case.member_id}", case.claims[0].date_of_service)
    for n, line in enumerate(case.claims, 1):
        case.answers[line.key] = await until_answered(
            lambda line=line: case.handle.execute_update(
                AuthorizationWorkflow.adjudicate_claim, line
            )
        )
        answered.append(line.claim_id)
        if n in (1, len(case.claims)):
            await until_answered(
                lambda: case.handle.signal(AuthorizationWorkflow.clinical_event, event)
            )


async def _notices_sent(pool, case_ids: list[str], expected: int) -> bool:
    sent = await pool.fetchval(
        "SELECT count(*) FROM notifications WHERE case_id = ANY($1) AND status = 'sent'",
        case_ids,
    )
    return sent == expected


async def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    dev_server, dev_client: Client, db_url, db_pool, task_queue, workers, fault_settings
):
    started_at = time.monotonic()
    first = await workers.start(dev_server.address, db_url)
    now = datetime.now(UTC)
    config = case_config(fault_settings)
    tag = task_queue.removeprefix("tq-")

    async def submit(kind: str, n: int, wave: str) -> Case:
        member_id = f"M-{tag}-{wave}-{kind[:3]}{n}"
        req = request(f"KILL-{tag}-{wave}-{kind}-{n}", member_id, received_at=now, **CHANGES[kind])
        started = await CaseClient(
            dev_client, task_queue, config, member_ref_key=fault_settings.member_ref_key
        ).start(req)
        assert started.created
        case = Case(kind=kind, member_id=member_id, handle=started.handle)
        if kind == "approved":
            case.claims = [
                claim(f"CLM-{tag}-{wave}{n}-{i}", member_id, now.date() + days(i), units=UNITS)
                for i in range(CLAIMS_PER_CASE)
            ]
        return case

    async def wave(kinds: dict[str, int], name: str) -> list[Case]:
        submits = [submit(k, n, name) for k, count in kinds.items() for n in range(count)]
        return list(await asyncio.gather(*submits))

    # The batch: cases through intake, then their claims and events all at once.
    cases = await wave(FIRST_WAVE, "a")
    intake_notices = sum(len(KINDS[c.kind][2]) - (c.kind == "withdrawn") for c in cases)
    await eventually(
        lambda: _notices_sent(db_pool, [c.id for c in cases], intake_notices),
        within_s=60,
        what="intake of the first wave",
    )
    answered: list[str] = []
    traffic = [
        asyncio.create_task(_claims_system(c, answered)) for c in cases if c.kind == "approved"
    ]
    total = CLAIMS_PER_CASE * sum(c.kind == "approved" for c in cases)
    await eventually(
        lambda: asyncio.sleep(0, result=len(answered) >= 3), within_s=60, every_s=0.02,
        what="the first claim answers",
    )  # fmt: skip

    first.kill()
    assert first.process.returncode == -9
    assert len(answered) < total, "the kill came after the batch was done"

    # While no worker runs: more cases, their claims, and a withdrawal.
    late = await wave(WHILE_DOWN, "b")
    cases += late
    traffic += [
        asyncio.create_task(_claims_system(c, answered)) for c in late if c.kind == "approved"
    ]
    traffic += [
        asyncio.create_task(
            until_answered(
                lambda c=c: c.handle.execute_update(
                    AuthorizationWorkflow.withdraw, WithdrawInput(reason="test withdrawal")
                )
            )
        )
        for c in cases
        if c.kind == "withdrawn"
    ]
    restarted = time.monotonic()
    await workers.start(dev_server.address, db_url)
    done, pending = await asyncio.wait(traffic, timeout=RECOVERY_S)
    for task in pending:
        task.cancel()
    assert not pending, f"{len(answered)}/{total + 6} claims answered\n{workers.logs()}"
    for task in done:
        task.result()

    # Every case settles where its kind does, in Temporal ...
    for case in cases:
        expected = KINDS[case.kind][0]
        await eventually(
            lambda case=case, expected=expected: _is(case.handle, expected),
            within_s=RECOVERY_S,
            what=f"{case.id} {expected}",
        )
    for case in cases:
        units = await case.handle.query(AuthorizationWorkflow.units)
        assert units.units_paid == UNITS * len(case.claims), case.id
        assert [a.allowed_units for a in case.answers.values()] == [UNITS] * len(case.claims)
    recovered_in = time.monotonic() - restarted

    # ... and in PostgreSQL, every row exactly once.
    ids = [c.id for c in cases]

    async def projected() -> bool:
        rows = await db_pool.fetch(
            "SELECT case_id, status, units_paid FROM authorizations WHERE case_id = ANY($1)", ids
        )
        got = {r["case_id"]: (r["status"], r["units_paid"]) for r in rows}
        return got == {c.id: (KINDS[c.kind][0], UNITS * len(c.claims)) for c in cases}

    await eventually(projected, within_s=60, what="the projection of every case")
    await eventually(
        lambda: _notices_sent(db_pool, ids, sum(len(KINDS[c.kind][2]) for c in cases)),
        within_s=60,
        what="every notice sent",
    )
    async with db_pool.acquire() as conn:
        counts = await table_counts(conn, ids)
        decisions = await conn.fetch(
            "SELECT case_id, kind, determination FROM decisions WHERE case_id = ANY($1)", ids
        )
        notices = await conn.fetch(
            "SELECT case_id, kind, status FROM notifications WHERE case_id = ANY($1)", ids
        )
        lines = await conn.fetch(
            "SELECT case_id, claim_id, line, reversal, answer FROM claim_lines "
            "WHERE case_id = ANY($1)",
            ids,
        )
    by_id = {c.id: c for c in cases}
    assert len(cases) == 20
    assert counts["authorizations"] == dict.fromkeys(ids, 1)
    assert counts["decisions"] == {c.id: len(KINDS[c.kind][1]) for c in cases}
    assert sorted((r["case_id"], r["kind"], r["determination"]) for r in decisions) == sorted(
        (c.id, *decision) for c in cases for decision in KINDS[c.kind][1]
    )
    assert sorted((r["case_id"], r["kind"]) for r in notices) == sorted(
        (c.id, kind) for c in cases for kind in KINDS[c.kind][2]
    )
    assert {r["status"] for r in notices} == {"sent"}
    assert counts["claim_lines"] == {c.id: len(c.claims) for c in cases}
    for row in lines:
        # The answer on record is the one the claims system was given, once.
        assert not row["reversal"]
        given = by_id[row["case_id"]].answers[(row["claim_id"], row["line"])]
        assert ClaimAnswer.model_validate(row["answer"]) == given
    assert counts["clinical_events"] == {c.id: int(c.kind == "approved") for c in cases}
    print(f"recovered {recovered_in:.1f}s after the restart; {time.monotonic() - started_at:.1f}s")


async def test_worker_killed_delivering_a_notice_holds_no_claim_and_the_next_worker_delivers_it(
    dev_server, dev_client: Client, db_url, db_pool, task_queue, workers, fault_settings
):
    """The worker dies while the approval notice is being delivered (the receiver is slow).

    The case must answer claims within CRASH_BOUND_S of the new worker's
    start (the notice is the outbox's, not the case's: nothing in the case waits
    for it); and the notice must stay owed and be delivered: one outbox row
    under its key, which the new worker's outbox dispatcher takes over once the
    dead worker's lease runs out, and delivers under the same key.
    """
    receiver = WebhookReceiver()
    await receiver.start()
    receiver.hold = True
    env = {
        "NOTIFY_CHANNEL": "webhook",
        "NOTIFY_WEBHOOK_URL": receiver.url,
        "NOTIFY_WEBHOOK_SECRET": "fault-test-webhook-signing-secret",
    }
    try:
        first = await workers.start(dev_server.address, db_url, **env)
        now = datetime.now(UTC)
        tag = task_queue.removeprefix("tq-")
        member_id = f"M-{tag}"
        started = await CaseClient.from_settings(
            dev_client, fault_settings, task_queue=task_queue
        ).start(request(f"NOTICE-{tag}", member_id, received_at=now))
        async with asyncio.timeout(60):
            await receiver.arrived.wait()
        key = receiver.keys[0]
        assert key == f"{started.case_id}:approval:0:0"
        first.kill()
        receiver.hold = False

        restarted = time.monotonic()
        await workers.start(dev_server.address, db_url, **env)
        line = claim(f"CLM-{tag}", member_id, now.date(), units=UNITS)
        answering = asyncio.ensure_future(
            until_answered(
                lambda: started.handle.execute_update(AuthorizationWorkflow.adjudicate_claim, line)
            )
        )
        done, _ = await asyncio.wait({answering}, timeout=CRASH_BOUND_S)
        if not done:
            answering.cancel()
            row = await db_pool.fetchrow(
                "SELECT status, attempts, lease_until FROM notifications WHERE key = $1", key
            )
            raise AssertionError(
                f"no claim answer {CRASH_BOUND_S:.0f}s after the restart: the case is still "
                f"held by the notice lost with the killed worker (outbox row: {dict(row or {})})"
            )
        answer = answering.result()
        assert (answer.status, answer.allowed_units) == ("paid", UNITS), answer
        print(f"answered {time.monotonic() - restarted:.1f}s after the restart")

        notices = await db_pool.fetch(
            "SELECT key FROM notifications WHERE case_id = $1", started.case_id
        )
        assert [r["key"] for r in notices] == [key]

        async def delivered() -> bool:
            status = await db_pool.fetchval("SELECT status FROM notifications WHERE key = $1", key)
            return bool(status == "sent")

        # The dead worker's lease (45 s) runs out; the new worker's dispatcher delivers.
        await eventually(delivered, within_s=120, what="the lost notice delivered")
        assert set(receiver.keys) == {key}
        assert receiver.keys.count(key) >= 2  # the held attempt, then the redelivery
        lines = await db_pool.fetchval(
            "SELECT count(*) FROM claim_lines WHERE case_id = $1", started.case_id
        )
        assert lines == 1
    finally:
        await receiver.stop()
