"""Benchmark of the policy engine: ``decide()`` calls per second on one core.

Not a test. Run ``.venv/bin/python benchmarks/bench_engine.py [--seconds S] [--requests N]``.

The workload is N distinct, already-validated requests (fixed seed): every path of
POLICY.md, random dates of birth, weights and heights, and some unknown or failing
facts, so approvals, reviews, pends, denials and Medicare Part B all occur and the
shared-trace and dosing caches see realistic misses. Each evaluation is a full
``decide()``: criteria, outcome, terms, dosing plan and the whole explanation tree.
The process is pinned to one CPU where the OS allows it; the rate is per second of CPU
time of this process (the wall-clock rate, lower on a shared machine, is printed too).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domain.engine import decide
from domain.policy import load_policy
from domain.request import PARequest

START = date(2026, 12, 3)

# The CONTRACT.md example request (an adult Ph- relapsed case, starting START).
BASE: dict[str, Any] = json.loads(
    (
        Path(__file__).resolve().parents[1] / "examples" / "requests" / "request-approve.json"
    ).read_text()
)

# (setting, therapy / diagnosis changes, adult?)
SHAPES: list[tuple[dict[str, Any], bool | None]] = [
    ({}, True),
    ({"therapy.setting": "mrd_positive", "diagnosis.mrd_percent": 0.5,
      "diagnosis.complete_remission": "first", "diagnosis.relapsed_or_refractory": False}, True),
    ({"therapy.setting": "frontline_induction", "diagnosis.ph_status": "positive",
      "therapy.combined_with": ["tki"], "therapy.tki": "dasatinib",
      "diagnosis.relapsed_or_refractory": False}, True),
    ({"therapy.setting": "consolidation", "therapy.combined_with": ["multiagent_chemotherapy"],
      "diagnosis.relapsed_or_refractory": False}, None),
    ({"therapy.setting": "maintenance", "therapy.regimen": "pomp_alternating",
      "diagnosis.relapsed_or_refractory": False}, True),
    ({"therapy.regimen": "cog_aall1331"}, False),
    ({"diagnosis.ph_status": "ph_like", "therapy.setting": "consolidation",
      "diagnosis.relapsed_or_refractory": False}, False),
    ({"diagnosis.ph_status": "positive", "therapy.combined_with": ["tki"],
      "therapy.tki": "imatinib"}, False),
]  # fmt: skip

NOISE: list[dict[str, Any]] = [
    {},
    {},
    {},
    {"diagnosis.ph_status": None},
    {"therapy.combined_with": None},
    {"clinical.live_vaccine_planned": True},
    {"diagnosis.icd10_codes": ["C92.00"]},
    {"line_of_business": "medicare_part_b"},
    {"line_of_business": "medicare_advantage"},
]


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


def workload(count: int, seed: int = 7) -> list[PARequest]:
    rng = random.Random(seed)
    requests = []
    for n in range(count):
        changes, adult = rng.choice(SHAPES)
        adult = rng.random() < 0.5 if adult is None else adult
        age_days = rng.randint(18 * 365, 85 * 365) if adult else rng.randint(40, 17 * 365)
        weight = round(rng.uniform(45, 110), 1) if adult else round(rng.uniform(4, 70), 1)
        height = round(rng.uniform(150, 195), 1) if adult else round(rng.uniform(55, 180), 1)
        data = copy.deepcopy(BASE)
        data["request_id"] = f"REQ-{n}"
        data["member"]["member_id"] = f"M-{n}"
        data["member"]["date_of_birth"] = (START - timedelta(days=age_days)).isoformat()
        data["clinical"]["weight_kg"], data["clinical"]["height_cm"] = weight, height
        for path, value in {**changes, **rng.choice(NOISE)}.items():
            _set(data, path, value)
        requests.append(PARequest.model_validate(data))
    return requests


def _pin_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def run(seconds: float, count: int, repeats: int) -> None:
    pinned = _pin_one_core()
    policy = load_policy()
    requests = workload(count)
    as_of = START
    mix = Counter(decide(r, policy, as_of=as_of).determination for r in requests)  # warm-up
    rates, wall_rates = [], []
    for _ in range(repeats):
        done = 0
        began, cpu_began = time.perf_counter(), time.process_time()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            for req in requests:
                decide(req, policy, as_of=as_of)
            done += len(requests)
        rates.append(done / (time.process_time() - cpu_began))
        wall_rates.append(done / (time.perf_counter() - began))
    print(f"policy {policy.policy.id} {policy.policy.version}; {count} distinct requests; {pinned}")
    print("mix: " + ", ".join(f"{k} {v}" for k, v in sorted(mix.items())))
    print(f"runs (per CPU second): {', '.join(f'{r:,.0f}' for r in rates)}")
    print(f"runs (per wall second): {', '.join(f'{r:,.0f}' for r in wall_rates)}")
    print(f"evaluations/second on one core (best of {repeats}, CPU time): {max(rates):,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one run")
    parser.add_argument("--requests", type=int, default=2000, help="distinct requests")
    parser.add_argument("--repeats", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    run(args.seconds, args.requests, args.repeats)


if __name__ == "__main__":
    main()
