"""Measuring primitives: closed-loop load, latency percentiles, activity plans from a history.

"Decision known" is the submission's own answer, for ours and the floors alike:
an update-with-start on ``first_decision`` (``benchmarks/targets.py``). A
history is read only to count what a case runs before its decision (up to its
``decide_request`` marker) and before a claim line's answer: the plan the
same-plan floor then runs as no-ops (``activity_steps``).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not sorted_values:
        return math.nan
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass
class LoadResult:
    """What a closed-loop run measured: per-operation latencies (s) and the wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.count / self.wall_s if self.wall_s > 0 else 0.0

    def summary(self, unit: str = "ms") -> dict[str, Any]:
        values = sorted(self.latencies)
        scale = 1000.0 if unit == "ms" else 1.0

        def q(p: float) -> float:
            return round(percentile(values, p) * scale, 2)

        return {
            "count": self.count,
            "errors": len(self.errors),
            "wall_s": round(self.wall_s, 3),
            f"p50_{unit}": q(50),
            f"p95_{unit}": q(95),
            f"p99_{unit}": q(99),
            f"max_{unit}": round(values[-1] * scale, 2) if values else math.nan,
            f"mean_{unit}": round(sum(values) / len(values) * scale, 2) if values else math.nan,
        }


async def closed_loop(
    total: int,
    concurrency: int,
    op: Callable[[int, int], Awaitable[float | None]],
    *,
    max_errors: int = 20,
) -> LoadResult:
    """Run ``op(index, lane)`` ``total`` times with ``concurrency`` operations in flight.

    ``op`` returns its own latency in seconds (or None to time the whole call).
    Errors are counted, not raised, up to ``max_errors``; past that the run stops.
    """
    result = LoadResult()
    next_index = 0
    stop = asyncio.Event()

    async def lane(lane_no: int) -> None:
        nonlocal next_index
        while not stop.is_set() and next_index < total:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            try:
                took = await op(index, lane_no)
            except Exception as exc:
                result.errors.append(f"{type(exc).__name__}: {exc}")
                if len(result.errors) >= max_errors:
                    stop.set()
                continue
            result.latencies.append(took if took is not None else time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(lane(i) for i in range(max(1, min(concurrency, total)))))
    result.wall_s = time.perf_counter() - began
    return result


LOCAL_ACTIVITY_MARKER = "core_local_activity"


def local_activity_type(event: Any) -> str | None:
    """The activity type of a local activity's marker event, else None."""
    if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
        return None
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != LOCAL_ACTIVITY_MARKER or "data" not in attrs.details:
        return None
    payloads = attrs.details["data"].payloads
    try:
        return json.loads(payloads[0].data).get("activity_type") if payloads else None
    except ValueError:
        return None


def activity_steps(events: list[Any]) -> list[tuple[str, str]]:
    """Activities in history order as (kind, type): kind "r" (a task the server
    dispatches, at its scheduling) or "l" (a local activity, at its marker)."""
    steps: list[tuple[str, str]] = []
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            steps.append(("r", e.activity_task_scheduled_event_attributes.activity_type.name))
        else:
            local = local_activity_type(e)
            if local is not None:
                steps.append(("l", local))
    return steps


async def history_events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return [event async for event in handle.fetch_history_events()]


def plan_until(events: list[Any], activity_type: str, occurrence: int = 1) -> str:
    """The kinds ("r"/"l") of the activities run up to and including the marker activity."""
    seen = 0
    plan = ""
    for kind, name in activity_steps(events):
        plan += kind
        if name == activity_type:
            seen += 1
            if seen == occurrence:
                return plan
    raise ValueError(f"no {activity_type} #{occurrence} in the history")


def update_plans(events: list[Any]) -> list[tuple[str, str]]:
    """Per update in the history: the kinds of the activities run while it ran
    and after it returned (until the next update is accepted, or the end)."""
    spans: list[tuple[str, str]] = []
    during = after = ""
    state = "idle"
    for e in events:
        kind = e.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            if state == "after":
                spans.append((during, after))
            during = after = ""
            state = "during"
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            state = "after"
        else:
            step = (
                "r"
                if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                else ("l" if local_activity_type(e) is not None else "")
            )
            if state == "during":
                during += step
            elif state == "after":
                after += step
    if state == "after":
        spans.append((during, after))
    return spans


@dataclass
class ProcessSample:
    """CPU seconds and RSS of a process between two moments."""

    pid: int
    cpu_s: float = 0.0

    @classmethod
    def start(cls, pid: int) -> ProcessSample:
        from benchmarks.stack import cpu_seconds

        return cls(pid=pid, cpu_s=cpu_seconds(pid))

    def cpu_used(self) -> float:
        from benchmarks.stack import cpu_seconds

        return cpu_seconds(self.pid) - self.cpu_s
