"""Fault: the Temporal server restarts (SIGTERM, then started again on its SQLite file).

Live cases must come back with their state: queries answer, updates and
signals are taken, and a timer armed before the restart fires after it.

The case clocks are days and hours long, so the timer here is a cycle
boundary, which falls at a midnight of the case's business clock: the cases
are started with a clock anchor (``CaseConfig.clock_anchor``) that puts
their business time 22 s before midnight, and a ``cycle_started`` event
dated one cycle length before that midnight arms the boundary timer. An
event is dated within the case's days (CONTRACT.md, "Clinical event"), so
that case was received on that day: its anchor stands as far back.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle

from cases.client import CaseClient
from cases.config import case_config
from domain.clinical_event import ClinicalEvent
from infra.devserver import DevServer, free_port
from infra.temporal import connect
from tests.faults.fault_stack import PEND, claim, eventually, request, table_counts
from workflows.authorization import AuthorizationWorkflow
from workflows.messages import ProvideInfoInput

#: Business seconds between the cases' start and the midnight their boundary timer waits for.
BEFORE_MIDNIGHT_S = 22
CYCLE_DAYS = 42  # relapsed/refractory induction (Section I)
UNITS = 35


async def _status(handle: WorkflowHandle) -> str:
    return (await handle.query(AuthorizationWorkflow.status)).status


async def _boundaries(handle: WorkflowHandle) -> list:
    history = await handle.query(AuthorizationWorkflow.history)
    return [e for e in history.entries if e.kind == "cycle_boundary"]


async def test_temporal_restart_keeps_live_cases_and_their_timers(
    tmp_path: Path, db_url, db_pool, task_queue, workers, fault_settings
):
    server = DevServer(
        port=free_port(), ui_port=None, db_file=tmp_path / "t.db", log_file=tmp_path / "t.log"
    )
    await server.start()
    try:
        client = await connect(server.address)
        await workers.start(server.address, db_url)
        tag = task_queue.removeprefix("tq-")
        anchor = datetime.now(UTC)
        today = anchor.date()
        midnight = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
        received = midnight - timedelta(seconds=BEFORE_MIDNIGHT_S)
        config = case_config(fault_settings, clock_anchor=anchor)

        async def submit(name: str, back: int = 0, **changes) -> tuple[WorkflowHandle, str]:
            """A case received ``back`` days before ``received``, its business clock as all."""
            member_id = f"M-{tag}-{name}"
            shift = timedelta(days=back)
            started = await CaseClient(
                client,
                task_queue,
                config.model_copy(update={"clock_anchor": anchor - shift}),
                member_ref_key=fault_settings.member_ref_key,
            ).start(
                request(f"TMP-{tag}-{name}", member_id, received_at=received - shift, **changes)
            )
            return started.handle, member_id

        (timed, _), (claimed, claimed_member), (pended, _) = [
            await submit("timer", back=CYCLE_DAYS - 1),
            await submit("claims"),
            await submit("pended", **PEND),
        ]
        for handle, status in ((timed, "active"), (claimed, "active"), (pended, "pended")):
            await eventually(
                lambda h=handle, s=status: _is(h, s), within_s=30, what=f"{handle.id} {status}"
            )
        # Cycle 1 began one cycle length before midnight: its boundary timer is armed.
        await timed.signal(
            AuthorizationWorkflow.clinical_event,
            ClinicalEvent(
                event_id=f"EV-{tag}",
                type="cycle_started",
                date=today - timedelta(days=CYCLE_DAYS - 1),
                cycle_started={"cycle": 1},
            ),
        )
        await eventually(
            lambda: _awaits(timed, "cycle 1 boundary"), within_s=10, what="the boundary timer"
        )
        first_answer = await claimed.execute_update(
            AuthorizationWorkflow.adjudicate_claim,
            claim(f"CLM-{tag}-1", claimed_member, today, UNITS),
        )
        assert first_answer.allowed_units == UNITS
        assert await _boundaries(timed) == []

        # The restart, with the timer armed and not yet due. (Should the server
        # come back only after the midnight, the timer is due at once: it must
        # still fire, after the restart.)
        business_now = received + (datetime.now(UTC) - anchor)
        assert business_now < midnight - timedelta(seconds=1), "too slow to arm the timer first"
        old_pid = server.process.pid
        server.stop()
        assert server.process.returncode is not None
        await server.start()
        assert server.process.pid != old_pid
        business_now = received + (datetime.now(UTC) - anchor)
        print(f"restarted {(midnight - business_now).total_seconds():.1f}s before the timer")

        # Queries, updates and signals reach the same cases ...
        assert await _status(timed) == "active"
        assert (await timed.query(AuthorizationWorkflow.cycles)).cycles[0].cycle == 1
        second_answer = await claimed.execute_update(
            AuthorizationWorkflow.adjudicate_claim,
            claim(f"CLM-{tag}-2", claimed_member, today + timedelta(days=1), UNITS),
        )
        assert second_answer.allowed_units == UNITS
        info = await pended.execute_update(
            AuthorizationWorkflow.provide_info,
            ProvideInfoInput(facts={"diagnosis.b_cell_precursor": True}, source="test"),
        )
        assert (info.accepted, info.status) == (True, "active")

        # ... and the timer armed before the restart fires after it, at the midnight.
        fired = await eventually(
            lambda: _boundaries(timed), within_s=BEFORE_MIDNIGHT_S + 30, what="the cycle boundary"
        )
        assert len(fired) == 1
        assert fired[0].at >= midnight
        assert (await timed.query(AuthorizationWorkflow.status)).awaiting != "cycle 1 boundary"

        ids = [timed.id, claimed.id, pended.id]
        await eventually(lambda: _sent(db_pool, ids, 4), within_s=30, what="every notice sent")
        async with db_pool.acquire() as conn:
            counts = await table_counts(conn, ids)
            kinds = await conn.fetch(
                "SELECT case_id, kind FROM notifications WHERE case_id = ANY($1)", ids
            )
        assert counts["decisions"] == {timed.id: 1, claimed.id: 1, pended.id: 2}
        assert counts["claim_lines"] == {timed.id: 0, claimed.id: 2, pended.id: 0}
        assert counts["clinical_events"] == {timed.id: 1, claimed.id: 0, pended.id: 0}
        assert sorted((r["case_id"], r["kind"]) for r in kinds) == sorted(
            [(timed.id, "approval"), (claimed.id, "approval"),
             (pended.id, "pend"), (pended.id, "approval")]
        )  # fmt: skip
        units = await claimed.query(AuthorizationWorkflow.units)
        assert units.units_paid == 2 * UNITS
    finally:
        workers_left = [w for w in workers.started if w.process and w.process.poll() is None]
        for worker in workers_left:
            worker.stop()
        server.stop()


async def _is(handle: WorkflowHandle, status: str) -> bool:
    return await _status(handle) == status


async def _awaits(handle: WorkflowHandle, what: str) -> bool:
    return (await handle.query(AuthorizationWorkflow.status)).awaiting == what


async def _sent(pool, case_ids: list[str], expected: int) -> bool:
    sent = await pool.fetchval(
        "SELECT count(*) FROM notifications WHERE case_id = ANY($1) AND status = 'sent'", case_ids
    )
    return sent == expected
