"""``priorauth bench``: our figures and the engine floor's, measured in one run on one stack.

Sections (issue #8):

1. ``decisions``: N requests at concurrency C (closed loop: C in flight);
   submit-to-decision latency is the round trip of the submission itself,
   ``CaseClient.submit``: an update-with-start on ``first_decision``, which
   answers once the decision is durably recorded. Two floors are submitted
   the same way (update-with-start on their ``first_decision``): the
   *same-plan floor* runs as many no-op activities as a case runs up to and
   including ``decide_request`` (counted from a warm-up case's history); the
   *minimal floor* decides with one local no-op activity, the fewest engine
   steps a decision can take. ``decisions_ratio`` = our decisions/s ÷ the
   same-plan floor's, ``minimal_floor_ratio`` = ours ÷ the minimal floor's.
2. ``claims``: claim lines sent as ``adjudicate_claim`` updates to live,
   approved cases (lane i always writes to case i); the same-plan floor's
   ``claim`` update runs as many no-op activities as ours runs before
   answering, the minimal floor's one local no-op. ``claims_ratio`` = our
   lines/s ÷ the same-plan floor's, ``minimal_floor_ratio`` = ours ÷ the
   minimal floor's.
3. ``lifecycle``: the full relapsed/refractory scenario through
   ``priorauth simulate``'s machinery on the time-skipping test server.
4. ``open_cases``: approved cases held open (they wait in timers) until
   there are ``open_cases`` of them, ``run_out_share`` of ours then withdrawn
   into their claims run-out (ended, still running); the RSS of the worker and
   the server, and the same for the floor (``worker_rss_ratio`` = ours ÷ floor).
"""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks.floor import MINIMAL_CLAIM_PLAN, MINIMAL_DECISION_PLAN, FloorWorkflow
from benchmarks.measure import (
    LoadResult,
    ProcessSample,
    activity_steps,
    closed_loop,
    history_events,
    plan_until,
    update_plans,
)
from benchmarks.stack import BenchStack, WorkerProcess, peak_rss_bytes, rss_bytes
from benchmarks.targets import DECISION_MARKER, FloorTarget, OpenedCase, OursTarget

SECTIONS = ("decisions", "claims", "lifecycle", "open_cases")
MB = 1024 * 1024


@dataclass
class BenchConfig:
    decisions: int = 500
    concurrency: int = 50
    warmup: int = 20
    claim_lines: int = 1000
    claim_cases: int | None = None  # default: one live case per lane
    open_cases: int = 5000
    open_floor: bool = True
    # Of our open cases, the share withdrawn after approval: they end, and stay open in
    # their claims run-out (POLICY.md), held in memory like live ones.
    run_out_share: float = 0.5
    lifecycle_runs: int = 1
    rounds: int = 2  # alternating ours/floor turns in decisions and claims
    scenario: Path | None = None
    sections: tuple[str, ...] = SECTIONS
    keep_dir: Path | None = None
    worker_log_level: str = "INFO"
    quick: bool = False
    progress: bool = True

    @classmethod
    def quick_config(cls, **overrides: Any) -> BenchConfig:
        values: dict[str, Any] = {
            "decisions": 20,
            "concurrency": 5,
            "warmup": 3,
            "claim_lines": 20,
            "open_cases": 50,
            "lifecycle_runs": 1,
            "rounds": 1,
            "quick": True,
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class Progress:
    enabled: bool = True
    began: float = field(default_factory=time.perf_counter)

    def __call__(self, text: str) -> None:
        if self.enabled:
            print(f"[{time.perf_counter() - self.began:7.1f}s] {text}", flush=True)


def _ratio(ours: float, floor: float) -> float:
    return round(ours / floor, 3) if floor > 0 else 0.0


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


class Bench:
    def __init__(self, config: BenchConfig) -> None:
        self.cfg = config
        self.say = Progress(config.progress)
        self.results: dict[str, Any] = {}
        self.ours_cases: list[OpenedCase] = []
        self.floor_cases: list[OpenedCase] = []
        self.minimal_cases: list[OpenedCase] = []
        self.decision_plan = "rrr"
        self.claim_plan = "r"

    # ------------------------------------------------------------------ run

    async def run(self) -> dict[str, Any]:
        cfg = self.cfg
        self.results["meta"] = self._meta()
        live = [s for s in cfg.sections if s != "lifecycle"]
        if live:
            self.say("starting the stack (dev server, PostgreSQL, worker, floor worker)")
            async with BenchStack(
                worker_log_level=cfg.worker_log_level, keep_dir=cfg.keep_dir
            ) as stack:
                self.stack = stack
                self.ours = OursTarget(stack.client, stack.ours_queue, _member_ref_key())
                self.floor = FloorTarget(stack.client, stack.floor_queue)
                self.minimal = FloorTarget(
                    stack.client,
                    stack.floor_queue,
                    decision_plan=MINIMAL_DECISION_PLAN,
                    claim_plan=MINIMAL_CLAIM_PLAN,
                    name="minimal_floor",
                )
                self.results["meta"]["idle_rss_mb"] = {
                    "worker": round(rss_bytes(stack.ours.pid) / MB, 1),
                    "floor_worker": round(rss_bytes(stack.floor.pid) / MB, 1),
                    "server": round(rss_bytes(stack.server_pid) / MB, 1),
                }
                await self._calibrate()
                if "decisions" in cfg.sections:
                    self.results["decisions"] = await self._decisions()
                if "claims" in cfg.sections:
                    self.results["claims"] = await self._claims()
                if "open_cases" in cfg.sections:
                    self.results["open_cases"] = await self._open_cases()
        if "lifecycle" in cfg.sections:
            self.results["lifecycle"] = await self._lifecycle()
        self.results["meta"]["load_after"] = _load()
        self.results["meta"]["wall_s"] = round(time.perf_counter() - self.say.began, 1)
        self.results["goals"] = goals(self.results, cfg)
        return self.results

    def _meta(self) -> dict[str, Any]:
        import temporalio

        cfg = self.cfg
        return {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": cfg.quick,
            "settings": {
                "decisions": cfg.decisions,
                "concurrency": cfg.concurrency,
                "warmup": cfg.warmup,
                "claim_lines": cfg.claim_lines,
                "claim_cases": cfg.claim_cases or cfg.concurrency,
                "open_cases": cfg.open_cases,
                "run_out_share": cfg.run_out_share,
                "lifecycle_runs": cfg.lifecycle_runs,
                "rounds": cfg.rounds,
            },
            "host": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "temporalio": temporalio.__version__,
                "load_before": _load(),
            },
        }

    # ----------------------------------------------------------- calibrate

    async def _calibrate(self) -> None:
        """Warm both workers up and count the activities a case runs before its decision."""
        cfg = self.cfg
        warm = max(1, cfg.warmup)
        self.say(f"warm-up: {warm} cases and {warm} floor runs")
        result = await self._open_many(self.ours, warm, min(cfg.concurrency, 10), self.ours_cases)
        self._raise_on_errors("warm-up (ours)", result)
        events = await _at_rest(self.ours_cases[0].handle)
        self.decision_plan = plan_until(events, DECISION_MARKER)
        self.activities_at_rest = [name for _, name in activity_steps(events)]
        self.floor.decision_plan = self.decision_plan
        result = await self._open_many(self.floor, warm, min(cfg.concurrency, 10), self.floor_cases)
        self._raise_on_errors("warm-up (floor)", result)
        result = await self._open_many(
            self.minimal, warm, min(cfg.concurrency, 10), self.minimal_cases
        )
        self._raise_on_errors("warm-up (minimal floor)", result)
        self.say(
            f"a case runs {_describe(self.decision_plan)} up to its decision; in all: "
            f"{', '.join(self.activities_at_rest)}"
        )

    @staticmethod
    def _raise_on_errors(what: str, result: LoadResult) -> None:
        if result.errors:
            raise RuntimeError(f"{what}: {len(result.errors)} failed, first: {result.errors[0]}")

    async def _open_many(
        self, target: Any, count: int, concurrency: int, keep: list[OpenedCase]
    ) -> LoadResult:
        base = target.started

        async def op(i: int, _lane: int) -> float:
            from benchmarks.targets import open_and_decide

            took, case = await open_and_decide(target, base + i)
            keep.append(case)
            return took

        return await closed_loop(count, concurrency, op)

    async def _compare(
        self, total: int, run: Any, settle_s: float = 1.0
    ) -> dict[str, tuple[LoadResult, dict[str, float]]]:
        """Run ``run(target, count)`` for the floors and ours in alternating rounds.

        ``total`` operations each, split over ``rounds`` turns (minimal floor, floor,
        ours, then ours, floor, minimal floor, ...), so a change in the machine's
        background load weighs on all alike. Returns each target's pooled result and
        its CPU per operation (worker, server and this process), measured from /proc
        around each turn.
        """
        stack = self.stack
        rounds = max(1, min(self.cfg.rounds, total))
        sizes = [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]
        targets = (self.minimal, self.floor, self.ours)
        pooled = {t.name: LoadResult() for t in targets}
        cpu = {t.name: [0.0, 0.0, 0.0] for t in targets}
        for turn, size in enumerate(sizes):
            order = targets if turn % 2 == 0 else targets[::-1]
            for target in order:
                worker_pid = stack.ours.pid if target is self.ours else stack.floor.pid
                worker = ProcessSample.start(worker_pid)
                server = ProcessSample.start(stack.server_pid)
                client_cpu = time.process_time()
                result = await run(target, size)
                used = cpu[target.name]
                used[0] += worker.cpu_used()
                used[1] += server.cpu_used()
                used[2] += time.process_time() - client_cpu
                acc = pooled[target.name]
                acc.latencies += result.latencies
                acc.errors += result.errors
                acc.wall_s += result.wall_s
                await asyncio.sleep(settle_s)  # the turn's trailing work, before the next
        out = {}
        for name, result in pooled.items():
            n = max(1, result.count)
            w, srv, c = cpu[name]
            out[name] = (
                result,
                {
                    "worker_cpu_ms_per_op": round(w * 1000 / n, 2),
                    "server_cpu_ms_per_op": round(srv * 1000 / n, 2),
                    "bench_client_cpu_ms_per_op": round(c * 1000 / n, 2),
                },
            )
        return out

    # ----------------------------------------------------------- decisions

    async def _decisions(self) -> dict[str, Any]:
        cfg = self.cfg
        out: dict[str, Any] = {
            "n": cfg.decisions,
            "concurrency": cfg.concurrency,
            "activities_before_decision": _describe(self.decision_plan),
            "activities_per_case": self.activities_at_rest,
            "minimal_floor_plan": _describe(MINIMAL_DECISION_PLAN),
            "latency": "the submission's round trip: update-with-start on first_decision, "
            "answered once the decision is recorded (floors: once their plan has run)",
        }
        keeps = {
            self.floor.name: self.floor_cases,
            self.minimal.name: self.minimal_cases,
            self.ours.name: self.ours_cases,
        }
        first = len(self.ours_cases)
        self.say(
            f"decisions: {cfg.decisions} each, ours and both floors at concurrency "
            f"{cfg.concurrency}, in {cfg.rounds} alternating round(s)"
        )
        measured = await self._compare(
            cfg.decisions,
            lambda target, n: self._open_many(target, n, cfg.concurrency, keeps[target.name]),
        )
        for target in (self.minimal, self.floor, self.ours):
            result, cpu = measured[target.name]
            summary = result.summary()
            summary["per_second"] = round(result.per_second, 2)
            summary.update(cpu)
            if result.errors:
                summary["first_error"] = result.errors[0]
            if target is self.ours:
                summary["recorded"] = await self._recorded_decisions(self.ours_cases[first:])
            out[target.name] = summary
            self.say(
                f"  {target.name}: {summary['per_second']}/s, p50 {summary['p50_ms']} ms, "
                f"p99 {summary['p99_ms']} ms"
            )
        out["decisions_ratio"] = _ratio(out["ours"]["per_second"], out["floor"]["per_second"])
        out["p99_ratio"] = _ratio(out["floor"]["p99_ms"], out["ours"]["p99_ms"])
        out["minimal_floor_ratio"] = _ratio(
            out["ours"]["per_second"], out["minimal_floor"]["per_second"]
        )
        return out

    async def _recorded_decisions(self, cases: list[OpenedCase]) -> dict[str, Any]:
        """What PostgreSQL holds for these cases: one decision row each, which determinations."""
        ids = [c.handle.id for c in cases]
        rows = await self.stack.pool.fetch(
            "SELECT determination, count(*) AS n, count(DISTINCT case_id) AS cases "
            "FROM decisions WHERE case_id = ANY($1::text[]) GROUP BY determination",
            ids,
        )
        return {
            "rows": sum(r["n"] for r in rows),
            "cases": sum(r["cases"] for r in rows),
            "determinations": {r["determination"]: r["n"] for r in rows},
        }

    # -------------------------------------------------------------- claims

    async def _claims(self) -> dict[str, Any]:
        cfg = self.cfg
        lanes = cfg.claim_cases or cfg.concurrency
        lanes = max(1, min(lanes, cfg.claim_lines))
        out: dict[str, Any] = {"lines": cfg.claim_lines, "concurrency": lanes, "cases": lanes}
        self.say(f"claims: opening {lanes} live cases of each")
        ours_cases: list[OpenedCase] = []
        floor_cases: list[OpenedCase] = []
        minimal_cases: list[OpenedCase] = []
        self._raise_on_errors(
            "claims setup (ours)", await self._open_many(self.ours, lanes, lanes, ours_cases)
        )
        self.ours_cases.extend(ours_cases)
        starts = await self._period_starts(ours_cases)

        # One claim per case first (warm): how many activities ours runs per line.
        await _all_or_raise(
            "claims warm-up (ours)", [self.ours.claim(c, starts[c.handle.id]) for c in ours_cases]
        )
        await asyncio.sleep(1.0)  # what follows the answer
        spans = update_plans(await history_events(ours_cases[0].handle))
        if not spans:
            raise RuntimeError("claims warm-up: no update found in the case's history")
        during, after = spans[-1]
        self.claim_plan = during
        self.floor.claim_plan = during
        out["activities_per_line"] = {
            "before_answer": _describe(during),
            "after_answer": _describe(after),
        }
        out["minimal_floor_plan"] = _describe(MINIMAL_CLAIM_PLAN)
        out["latency"] = (
            "execute_update(adjudicate_claim) round trip (floor: a `claim` update running "
            f"{_describe(during)}, no-ops; minimal floor: {_describe(MINIMAL_CLAIM_PLAN)})"
        )

        self._raise_on_errors(
            "claims setup (floor)", await self._open_many(self.floor, lanes, lanes, floor_cases)
        )
        self.floor_cases.extend(floor_cases)
        await _all_or_raise(
            "claims warm-up (floor)", [self.floor.claim(c, date.today()) for c in floor_cases]
        )
        self._raise_on_errors(
            "claims setup (minimal floor)",
            await self._open_many(self.minimal, lanes, lanes, minimal_cases),
        )
        self.minimal_cases.extend(minimal_cases)
        await _all_or_raise(
            "claims warm-up (minimal floor)",
            [self.minimal.claim(c, date.today()) for c in minimal_cases],
        )

        cases_of = {
            self.floor.name: floor_cases,
            self.minimal.name: minimal_cases,
            self.ours.name: ours_cases,
        }
        answers: dict[str, Counter[str]] = {name: Counter() for name in cases_of}

        async def lines(target: Any, n: int) -> LoadResult:
            cases, seen = cases_of[target.name], answers[target.name]

            async def op(_i: int, lane: int) -> None:
                case = cases[lane]
                seen[await target.claim(case, starts.get(case.handle.id, date.today()))] += 1

            return await closed_loop(n, lanes, op)

        self.say(
            f"claims: {cfg.claim_lines} lines each over {lanes} cases, in {cfg.rounds} "
            "alternating round(s)"
        )
        measured = await self._compare(cfg.claim_lines, lines)
        for target in (self.minimal, self.floor, self.ours):
            result, cpu = measured[target.name]
            summary = result.summary()
            summary["per_second"] = round(result.per_second, 2)
            summary.update(cpu)
            summary["answers"] = dict(answers[target.name])
            if result.errors:
                summary["first_error"] = result.errors[0]
            out[target.name] = summary
            self.say(
                f"  {target.name}: {summary['per_second']} lines/s, p50 {summary['p50_ms']} ms, "
                f"p99 {summary['p99_ms']} ms"
            )
        out["claims_ratio"] = _ratio(out["ours"]["per_second"], out["floor"]["per_second"])
        out["p99_ratio"] = _ratio(out["floor"]["p99_ms"], out["ours"]["p99_ms"])
        out["minimal_floor_ratio"] = _ratio(
            out["ours"]["per_second"], out["minimal_floor"]["per_second"]
        )
        return out

    async def _period_starts(self, cases: list[OpenedCase]) -> dict[str, date]:
        rows = await self.stack.pool.fetch(
            "SELECT case_id, periods FROM authorizations WHERE case_id = ANY($1::text[])",
            [c.handle.id for c in cases],
        )
        starts = {}
        for row in rows:
            periods = row["periods"] or []
            if periods:
                starts[row["case_id"]] = date.fromisoformat(periods[0]["start"])
        today = datetime.now(UTC).date()
        return {c.handle.id: starts.get(c.handle.id, today) for c in cases}

    # ---------------------------------------------------------- open cases

    async def _open_cases(self) -> dict[str, Any]:
        cfg = self.cfg
        stack = self.stack
        out: dict[str, Any] = {"target": cfg.open_cases}
        # The minimal floor's cases end first: the floor worker holds only the floor's.
        await asyncio.gather(*(c.handle.signal(FloorWorkflow.finish) for c in self.minimal_cases))
        self.minimal_cases.clear()
        runs: list[tuple[OursTarget | FloorTarget, list[OpenedCase], WorkerProcess]] = [
            (self.ours, self.ours_cases, stack.ours),
            *([(self.floor, self.floor_cases, stack.floor)] if cfg.open_floor else []),
        ]
        for target, keep, proc in runs:
            missing = max(0, cfg.open_cases - len(keep))
            self.say(
                f"open cases: {len(keep)} {target.name} open, opening {missing} more "
                f"at concurrency {cfg.concurrency}"
            )
            # In steps, noting the worker's memory as the open cases grow.
            result = LoadResult()
            growth = [{"open": len(keep), "worker_rss_mb": round(rss_bytes(proc.pid) / MB, 1)}]
            step = max(1, cfg.open_cases // 5)
            while missing > 0:
                part = await self._open_many(target, min(step, missing), cfg.concurrency, keep)
                result.latencies += part.latencies
                result.errors += part.errors
                result.wall_s += part.wall_s
                missing -= min(step, missing)
                growth.append(
                    {"open": len(keep), "worker_rss_mb": round(rss_bytes(proc.pid) / MB, 1)}
                )
            withdrawn = 0
            if target is self.ours and cfg.run_out_share > 0:
                withdrawn = await self._withdraw_into_run_out(keep, cfg.run_out_share)
            await asyncio.sleep(3.0)  # let the last tasks and projections settle
            running = await _count_running(stack.client, target.task_queue)
            section = {
                "open": running,
                "opened_now": result.count,
                "open_per_second": round(result.per_second, 2),
                "errors": len(result.errors),
                "worker_rss_growth": growth,
                "worker_rss_mb": round(rss_bytes(proc.pid) / MB, 1),
                "worker_peak_rss_mb": round(peak_rss_bytes(proc.pid) / MB, 1),
                "server_rss_mb": round(rss_bytes(stack.server_pid) / MB, 1),
            }
            if target is self.ours:
                section["withdrawn_into_run_out"] = withdrawn
                section["statuses"] = await self._statuses(keep)
                if stack.postgres_pid:
                    section["postgres_rss_mb"] = round(rss_bytes(stack.postgres_pid) / MB, 1)
            out[target.name] = section
            self.say(
                f"  {target.name}: {running} open, worker {section['worker_rss_mb']} MB "
                f"(peak {section['worker_peak_rss_mb']}), server {section['server_rss_mb']} MB"
            )
        if "floor" in out:
            out["worker_rss_ratio"] = _ratio(
                out["ours"]["worker_rss_mb"], out["floor"]["worker_rss_mb"]
            )
        return out

    async def _withdraw_into_run_out(self, cases: list[OpenedCase], share: float) -> int:
        """Withdraw ``share`` of the approved ``cases``: each ends ``withdrawn`` and stays
        open in its claims run-out (still a running workflow, held by the worker)."""
        from workflows.messages import WithdrawInput

        chosen = cases[: int(len(cases) * share)]
        self.say(f"  withdrawing {len(chosen)} of them into their claims run-out")

        async def op(i: int, _lane: int) -> float:
            started = time.perf_counter()
            await self.ours.cases.withdraw(
                chosen[i].handle.id,
                WithdrawInput(reason="bench: into run-out", requested_by="bench"),
            )
            return time.perf_counter() - started

        result = await closed_loop(len(chosen), self.cfg.concurrency, op)
        self._raise_on_errors("withdrawals", result)
        return result.count

    async def _statuses(self, cases: list[OpenedCase]) -> dict[str, int]:
        rows = await self.stack.pool.fetch(
            "SELECT status, count(*) AS n FROM authorizations WHERE case_id = ANY($1::text[]) "
            "GROUP BY status",
            [c.handle.id for c in cases],
        )
        return {r["status"]: r["n"] for r in rows}

    # ----------------------------------------------------------- lifecycle

    async def _lifecycle(self) -> dict[str, Any]:
        from benchmarks.lifecycle import run_lifecycle

        self.say(f"lifecycle: {self.cfg.lifecycle_runs} run(s) of the full scenario")
        return await run_lifecycle(self.cfg.scenario, runs=self.cfg.lifecycle_runs)


def _describe(plan: str) -> str:
    """ "rrl" -> "2 activities + 1 local activity" (the floor runs the same)."""
    regular, local = plan.count("r"), plan.count("l")
    parts = []
    if regular or not local:
        parts.append(f"{regular} activit{'y' if regular == 1 else 'ies'}")
    if local:
        parts.append(f"{local} local activit{'y' if local == 1 else 'ies'}")
    return " + ".join(parts)


async def _all_or_raise(what: str, calls: list[Any]) -> None:
    results = await asyncio.gather(*calls, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise RuntimeError(f"{what}: {len(failed)} failed, first: {failed[0]!r}")


async def _at_rest(handle: Any, within_s: float = 15.0) -> list[Any]:
    """The case's history once it waits in a timer (its intake done), or as it is then."""
    from temporalio.api.enums.v1 import EventType

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        events = await history_events(handle)
        resting = any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in events)
        if resting or loop.time() >= deadline:
            await asyncio.sleep(1.0)  # the notices that go out after it rests
            return await history_events(handle)
        await asyncio.sleep(0.2)


async def _count_running(client: Any, task_queue: str) -> int:
    try:
        count = await client.count_workflows(
            f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
        )
        running: int = count.count
        return running
    except Exception:
        return -1


def _member_ref_key() -> str:
    from infra.settings import Settings

    return Settings().member_ref_key


# ------------------------------------------------------------------ goals


def goals(results: dict[str, Any], cfg: BenchConfig) -> dict[str, Any]:
    """Issue #8's goals, each with its figure and whether it is met (None: not measured)."""
    out: dict[str, Any] = {}
    dec = results.get("decisions") or {}
    claims = results.get("claims") or {}
    open_ = (results.get("open_cases") or {}).get("ours") or {}
    # (goal names avoid the word "ratio": every key with it is a comparison)
    out["decisions/s ours/floor >= 0.8"] = _goal(dec.get("decisions_ratio"), lambda v: v >= 0.8)
    out["claim lines/s ours/floor >= 0.8"] = _goal(claims.get("claims_ratio"), lambda v: v >= 0.8)
    # Issue #14: against the minimal floor (one local no-op per decision, per claim).
    out["decisions/s ours/minimal floor >= 0.7"] = _goal(
        dec.get("minimal_floor_ratio"), lambda v: v >= 0.7
    )
    out["claim lines/s ours/minimal floor >= 0.7"] = _goal(
        claims.get("minimal_floor_ratio"), lambda v: v >= 0.7
    )
    p99 = (dec.get("ours") or {}).get("p99_ms")
    out[f"p99 submit-to-decision < 1000 ms at C={cfg.concurrency}"] = _goal(p99, lambda v: v < 1000)
    if cfg.concurrency != 50:
        out[f"p99 submit-to-decision < 1000 ms at C={cfg.concurrency}"]["note"] = (
            "the goal is stated at C=50"
        )
    rss = open_.get("worker_rss_mb")
    out[f"{open_.get('open', cfg.open_cases)} open cases, worker RSS < 1024 MB"] = _goal(
        rss, lambda v: v < 1024
    )
    return out


def _goal(value: Any, test: Any) -> dict[str, Any]:
    if value is None:
        return {"value": None, "met": None}
    return {"value": value, "met": bool(test(value))}


async def run_bench(config: BenchConfig) -> dict[str, Any]:
    return await Bench(config).run()
