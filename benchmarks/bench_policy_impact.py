"""Benchmark of ``priorauth policy impact`` on N synthetic cases (default 100,000).

Not a test. Run ``DATABASE_URL=postgresql://… .venv/bin/python benchmarks/bench_policy_impact.py``
(without DATABASE_URL an embedded PostgreSQL in a temporary directory is used).

1. A scratch database is created and migrated, and N open cases are loaded with
   COPY: one ``authorizations`` row and one ``decisions`` row each, the decision row
   holding the case's facts as the workflow records them (``request``: without
   the member's identity, ``domain.decision_facts``; ``prior_cycles``). The facts
   are those of ``bench_engine``'s workload (every path of POLICY.md, random ages,
   weights, unknown and failing facts, Medicare Part B); MRD cases get an MRD between 0 and 1%.
2. The draft raises the adult MRD threshold (A-MRD-1) from 0.1% to 0.5%.
3. ``priorauth policy impact DRAFT --json`` runs as a child process pinned to one
   CPU; the wall time of the whole command (start-up, reading, parsing, evaluating,
   writing the JSON) is measured here, the phases by the command itself.
The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_engine import BASE, NOISE, SHAPES, START, _set  # noqa: E402
from domain.decision_facts import facts_of  # noqa: E402
from domain.policy import DEFAULT_POLICY_FILE, POLICY_DIR  # noqa: E402
from domain.request import PARequest  # noqa: E402
from domain.strict import RECORDED  # noqa: E402
from infra.postgres import scratch_database  # noqa: E402

OPEN = ("received", "pended", "in_review", "active", "renewal_window", "denied", "appealed")


def stored(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts as a decision row keeps them: no member identity (domain.decision_facts)."""
    return facts_of(PARequest.model_validate(facts, context=RECORDED))


def case_facts(n: int, rng: random.Random) -> dict[str, Any]:
    changes, adult = rng.choice(SHAPES)
    adult = rng.random() < 0.5 if adult is None else adult
    age_days = rng.randint(18 * 365, 85 * 365) if adult else rng.randint(40, 17 * 365)
    data = copy.deepcopy(BASE)
    data["request_id"] = f"BENCH-{n:06d}"
    data["member"]["member_id"] = f"M-{n}"
    data["member"]["date_of_birth"] = (START - timedelta(days=age_days)).isoformat()
    data["clinical"]["weight_kg"] = round(rng.uniform(45, 110) if adult else rng.uniform(4, 70), 1)
    data["clinical"]["height_cm"] = round(
        rng.uniform(150, 195) if adult else rng.uniform(55, 180), 1
    )
    for path, value in {**changes, **rng.choice(NOISE)}.items():
        _set(data, path, value)
    if data["therapy"].get("setting") == "mrd_positive":
        data["diagnosis"]["mrd_percent"] = round(rng.uniform(0, 1), 2)
    if rng.random() < 0.2:
        data["therapy"]["prior_blinatumomab_cycles"] = rng.randint(0, 4)
    return data


async def load(url: str, count: int, seed: int) -> float:
    import asyncpg

    rng = random.Random(seed)
    began = time.perf_counter()
    received = datetime(2026, 12, 1, 9, tzinfo=UTC)
    conn = await asyncpg.connect(url)
    try:
        for lo in range(0, count, 20_000):
            auths, decisions = [], []
            for n in range(lo, min(lo + 20_000, count)):
                facts = case_facts(n, rng)
                case_id = f"pa-{facts['request_id']}"
                lob, urgency = facts["line_of_business"], facts.get("urgency", "standard")
                auths.append(
                    (case_id, facts["request_id"], f"ref-{n}", 1, rng.choice(OPEN), lob, urgency,
                     received, received)
                )  # fmt: skip
                decisions.append(
                    (f"{case_id}:initial:1", case_id, facts["request_id"], "initial", "pend",
                     True, "OHSU-HEALTHSERVICES-0382", "2025-09-04", urgency, lob, received,
                     received, json.dumps(stored(facts)), rng.choice((0, 0, 0, 1, 2)))
                )  # fmt: skip
            await conn.copy_records_to_table(
                "authorizations",
                records=auths,
                columns=["case_id", "request_id", "member_ref", "version", "status",
                         "line_of_business", "urgency", "received_at", "updated_at"],
            )  # fmt: skip
            await conn.copy_records_to_table(
                "decisions",
                records=decisions,
                columns=["decision_key", "case_id", "request_id", "kind", "determination",
                         "automated", "policy_id", "policy_version", "urgency",
                         "line_of_business", "received_at", "decided_at", "request",
                         "prior_cycles"],
            )  # fmt: skip
        await conn.execute("ANALYZE authorizations; ANALYZE decisions")
    finally:
        await conn.close()
    return time.perf_counter() - began


def draft_file(directory: Path) -> Path:
    data = yaml.safe_load((POLICY_DIR / DEFAULT_POLICY_FILE).read_text(encoding="utf-8"))
    data["policy"]["version"] = "bench-draft"

    def raise_mrd(node: dict[str, Any]) -> None:
        if node.get("id") == "A-MRD-1":
            node["value"] = 0.5
        for key in ("all", "any"):
            for child in node.get(key) or []:
                raise_mrd(child)

    raise_mrd(data["criteria"])
    path = directory / "draft.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _one_core() -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


async def main_async(count: int, seed: int) -> None:
    async with scratch_database(os.environ.get("DATABASE_URL"), prefix="priorauth_bench") as url:
        loaded = await load(url, count, seed)
        print(f"loaded {count:,} cases in {loaded:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            draft = draft_file(Path(tmp))
            env = {**os.environ, "DATABASE_URL": url, "PRIORAUTH_ENV": "test"}
            command = [sys.executable, "-m", "cli", "policy", "impact", str(draft), "--json"]
            began = time.perf_counter()
            done = await asyncio.to_thread(
                subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True,
                preexec_fn=_one_core, check=False,
            )  # fmt: skip
            wall = time.perf_counter() - began
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise SystemExit(done.returncode)
        report = json.loads(done.stdout)
    summary, timing = report["summary"], report["timing"]
    print("command: priorauth policy impact DRAFT --json (A-MRD-1 0.1% -> 0.5%), one CPU")
    print(f"cases re-decided: {summary['cases']:,}; changed: {summary['changed']:,}")
    print(f"by node: {summary['by_node']}")
    print(
        f"whole command (wall, process start to JSON out): {wall:.1f} s; the run inside it: "
        f"{timing['total']} s wall, {timing['cpu']} s CPU, of which parsing the facts "
        f"{timing['parse_cpu']} s and re-deciding {timing['evaluate_cpu']} s"
    )
    print(
        f"evaluation: {timing['cases_evaluated_per_second']:,} cases per CPU second on one "
        "core (each decided under both policies)"
    )
    print(f"overall: {count / wall:,.0f} cases/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    asyncio.run(main_async(args.cases, args.seed))


if __name__ == "__main__":
    main()
