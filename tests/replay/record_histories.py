"""Record representative case histories for tests/replay/test_replay_recorded_histories.py.

    .venv/bin/python tests/replay/record_histories.py [--out DIR] [--only TAG ...]

Runs six cases through the real workflow and activities on the time-skipping
test server (and an embedded PostgreSQL), the way ``priorauth simulate`` does,
and writes every run of each as ``<workflow id>.run<n>.json``
(``WorkflowHistory.to_json()``, plain payloads: no codec) under
tests/replay/histories/:

- approve-renew: approved on relapsed/refractory, claims (one sent twice, one
  reversed), a toxicity and a response assessment, a renewal that continues
  the case as new, a claim in the renewed period;
- pend-info: pended for a missing fact, the fact provided, approved;
- review-appeal: sent to review, denied by a reviewer, appealed, approved by
  another reviewer;
- withdrawn: approved, a claim, withdrawn, a claim after the withdrawal refused;
- decision-writes: as pend-info, recorded once decisions wrote their own notices
  and projection (the branch the five others, older, do not take);
- run-out: expired unrenewed, late claims paid and denied (CARC 29) in its claims
  run-out, the run-out's end, a claim after it (examples/scenarios/claims_run_out.json).

The committed files are what running cases look like to the workflow code:
a change that cannot replay them would break live cases, so it goes behind
``workflow.patched``. Record again only when the old histories are truly
obsolete (no case anywhere still runs on them), and commit the new files.
They were recorded for the case aggregate of issue #14 (no deployment ran
cases then), which dropped every earlier ``workflow.patched`` branch, and last
once more when it met the policy registry: a case now starts with its
``policy_ref`` and its policy's clocks, and its decision rows carry the facts
they were decided on (still no deployment running cases); and once more for the
hot path of issue #14 point 4: a message's notices and projection are one local
activity (``write_effects``, the notices into the outbox; no ``send_notification``
activity), its search attributes one upsert per turn of the run loop, and the hot
path's local activities carry no summary (no deployment running cases).
``--only TAG`` records just those cases (a new one) and leaves the others' files
as they are: decision-writes (pend, facts, approval, as pend-info) was added so,
when a decision's local activity came to write its notices and projection
itself (``CaseWrites``; the five above replay through the older branch, where the
workflow writes them after).

Every person in them is synthetic ("Test Member", "Test Prescriber"): the
histories are committed in clear.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]

SCENARIOS_DIR = ROOT / "examples" / "scenarios"
HISTORIES = Path(__file__).resolve().parent / "histories"
MEMBER_REF_KEY = "replay-recording-member-ref-key"


def _synthetic(data: dict[str, Any], tag: str) -> dict[str, Any]:
    """An example scenario with every person in it made obviously synthetic."""
    data = copy.deepcopy(data)
    request = data["request"]
    member_id = f"M-TEST-{tag}"
    request["request_id"] = f"REPLAY-{tag}"
    year = request["member"]["date_of_birth"][:4]
    request["member"].update(
        member_id=member_id, first_name="Test", last_name="Member", date_of_birth=f"{year}-01-01"
    )
    request["prescriber"] = {"npi": "1234567893", "name": "Test Prescriber"}
    for event in data["events"]:
        if "claim" in event:
            event["claim"]["member_id"] = member_id
    return data


def _example(name: str) -> dict[str, Any]:
    return json.loads((SCENARIOS_DIR / f"{name}.json").read_text())


def scenarios() -> dict[str, dict[str, Any]]:
    full = _example("relapsed_refractory_full")
    claims = [e for e in full["events"] if e["action"] == "claim"][:4]
    repeat = copy.deepcopy(claims[0])
    repeat["day"] = claims[-1]["day"]
    reversal = copy.deepcopy(claims[1])
    reversal["day"] = claims[-1]["day"]
    reversal["claim"]["reversal"] = True
    toxicity = {
        "day": 30,
        "action": "clinical_event",
        "event": {"event_id": "EV-TOX-1", "type": "toxicity", "date": "2026-12-31",
                  "toxicity": {"kind": "crs", "grade": 1}},
    }  # fmt: skip
    renewal = [e for e in full["events"] if e["action"] != "claim"][:2]
    renewed_claim = copy.deepcopy(claims[0])
    renewed_claim.update(day=213)
    renewed_claim["claim"].update(claim_id="CLM-P2-D01", date_of_service="2027-07-02")
    approve_renew = {
        "request": full["request"],
        "events": [*claims, repeat, reversal, toxicity, *renewal, renewed_claim],
        "until_day": 215,
    }
    return {
        "APPROVE-RENEW": _synthetic(approve_renew, "APPROVE-RENEW"),
        "PEND-INFO": _synthetic(_example("pend_then_info"), "PEND-INFO"),
        "REVIEW-APPEAL": _synthetic(_example("review_deny_appeal"), "REVIEW-APPEAL"),
        "WITHDRAWN": _synthetic(_example("withdrawn"), "WITHDRAWN"),
        "RUN-OUT": _synthetic(_example("claims_run_out"), "RUN-OUT"),
        "DECISION-WRITES": _synthetic(_example("pend_then_info"), "DECISION-WRITES"),
    }


#: What each recorded case must have done, or the recording is worth nothing.
EXPECTED = {
    "APPROVE-RENEW": {"status": "active", "renewals_used": 1, "runs": 2},
    "PEND-INFO": {"status": "active", "renewals_used": 0, "runs": 1},
    "REVIEW-APPEAL": {"status": "active", "renewals_used": 0, "runs": 1},
    "WITHDRAWN": {"status": "withdrawn", "renewals_used": 0, "runs": 1},
    "RUN-OUT": {"status": "expired", "renewals_used": 0, "runs": 1},
    "DECISION-WRITES": {"status": "active", "renewals_used": 0, "runs": 1},
}


async def record(out: Path, only: set[str] | None = None) -> list[Path]:
    from cases.client import case_histories
    from domain.scenario import Scenario
    from infra.devserver import start_time_skipping_env
    from infra.postgres import create_pool, scratch_database
    from infra.settings import Settings
    from simulation.runner import run_scenario
    from worker import build_worker

    settings = Settings(
        notify_channel="log", member_ref_key=MEMBER_REF_KEY, database_url=None, codec_keys=""
    )
    written: list[Path] = []
    async with scratch_database(None) as url:
        pool = await create_pool(url, min_size=1, max_size=4)
        env = await start_time_skipping_env()
        try:
            task_queue = "replay-recording"
            async with build_worker(env.client, pool, settings, task_queue=task_queue):
                for tag, data in scenarios().items():
                    if only and tag not in only:
                        continue
                    run = await run_scenario(
                        env, Scenario.model_validate(data), task_queue=task_queue, settings=settings
                    )
                    histories = await case_histories(env.client, run.workflow_id)
                    got = {
                        "status": run.result.status,
                        "renewals_used": run.result.renewals_used,
                        "runs": len(histories),
                    }
                    if got != EXPECTED[tag]:
                        raise SystemExit(f"{tag}: expected {EXPECTED[tag]}, the case did {got}")
                    for n, history in enumerate(histories, 1):
                        path = out / f"{run.workflow_id}.run{n}.json"
                        path.write_text(history.to_json() + "\n")
                        written.append(path)
                    print(f"{tag}: {got}, runs of {[len(h.events) for h in histories]} events")
        finally:
            await env.shutdown()
            await pool.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HISTORIES, help=f"default: {HISTORIES}")
    parser.add_argument(
        "--only", nargs="+", metavar="TAG", help=f"only these of {', '.join(EXPECTED)}"
    )
    args = parser.parse_args()
    only = set(args.only or [])
    if only - set(EXPECTED):
        parser.error(f"unknown tags: {', '.join(sorted(only - set(EXPECTED)))}")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.json"):
        if not only or old.name.split(".run")[0].removeprefix("pa-REPLAY-") in only:
            old.unlink()
    for path in asyncio.run(record(args.out, only or None)):
        print(path)


if __name__ == "__main__":
    main()
