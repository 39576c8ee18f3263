"""The lifecycle section: the full relapsed/refractory scenario on the time-skipping server.

Runs through ``priorauth simulate``'s own machinery (``simulation.runner.simulate``:
a time-skipping test server, a scratch PostgreSQL and the production worker
in process), so what is timed is exactly what ``priorauth simulate`` does.
Wall time is the scenario's own (from the case's start to its final state),
not the servers' start-up, which is reported apart.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from infra.settings import PROJECT_ROOT

DEFAULT_SCENARIO = PROJECT_ROOT / "examples" / "scenarios" / "relapsed_refractory_full.json"


async def run_lifecycle(scenario_path: Path | None, *, runs: int = 1) -> dict[str, Any]:
    from infra.settings import Settings
    from simulation.runner import scenario_problems, simulate

    path = (scenario_path or DEFAULT_SCENARIO).resolve()
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    scenario, problems = scenario_problems(path.read_text(), str(path))
    if scenario is None:
        raise RuntimeError("; ".join(problems))
    settings = Settings()
    walls: list[float] = []
    totals: list[float] = []
    last = None
    for _ in range(max(1, runs)):
        began = time.perf_counter()
        last = await simulate(scenario, settings)
        totals.append(time.perf_counter() - began)
        walls.append(last.wall_seconds)
    assert last is not None
    result = last.result
    actions: dict[str, int] = {}
    for event in scenario.events:
        actions[event.action] = actions.get(event.action, 0) + 1
    events = last.history_events
    return {
        "scenario": str(shown),
        "runs": len(walls),
        "simulated_days": max([scenario.until_day, *(e.day for e in scenario.events)]),
        "scenario_events": actions,
        "wall_s_per_run": round(min(walls), 2),
        "wall_s_all": [round(w, 2) for w in walls],
        "with_startup_s": round(min(totals), 2),
        "workflow_runs": len(events),
        "history_events_per_run": events,
        "max_events_per_run": max(events) if events else 0,
        "history_events_total": sum(events),
        "final_status": result.status,
        "shape": f"{len(result.claims)} claims / {len(result.cycles)} cycles / "
        f"{result.renewals_used} renewals",
    }
