"""`priorauth simulate FILE|-` as a user runs it (CONTRACT.md, "Scenario").

A bad scenario prints one line per bad field and exits 2 (no traceback, no
server started); a good one prints the result JSON on stdout and nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def simulate(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "simulate", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_a_bad_scenario_prints_one_line_per_bad_field_and_exits_2():
    bad = {
        "request": {"request_id": "R", "received_at": "2026-12-01", "line_of_business": "x"},
        "events": [{"day": 3, "action": "fly"}],
    }
    done = simulate("-", stdin=json.dumps(bad))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "stdin: request.received_at: Input should be an ISO 8601 timestamp with a time zone "
        "(2026-12-01T09:00:00Z)",
        "stdin: request.line_of_business: Input should be 'commercial', 'medicaid', "
        "'medicare_advantage' or 'medicare_part_b'",
        "stdin: request.member: Field required",
        "stdin: request.service: Field required",
        "stdin: events.0.action: Input should be 'decide_review', 'claim', 'clinical_event', "
        "'renewal_request', 'provide_info', 'extend_period', 'appeal' or 'withdraw'",
    ]
    assert "Traceback" not in done.stderr


def test_a_scenario_for_another_drug_or_with_a_coerced_value_exits_2_naming_the_fields():
    scenario = json.loads((ROOT / "examples" / "scenarios" / "withdrawn.json").read_text())
    scenario["request"]["service"]["hcpcs"] = "J9999"
    scenario["request"]["diagnosis"]["b_cell_precursor"] = "yes"
    scenario["events"].append(
        {"day": 20, "action": "clinical_event",
         "event": {"event_id": "EV 1", "type": "death", "date": 0}}
    )  # fmt: skip
    done = simulate("-", stdin=json.dumps(scenario))
    assert done.returncode == 2
    fields = {line.split(": ")[1] for line in done.stderr.strip().splitlines()}
    last = len(scenario["events"]) - 1
    assert fields == {
        "request.service.hcpcs",
        "request.diagnosis.b_cell_precursor",
        f"events.{last}.event.event_id",
        f"events.{last}.event.date",
    }


def test_unreadable_or_non_json_input_is_one_line_and_exit_2():
    missing = simulate("no/such/scenario.json")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "no/such/scenario.json: cannot read: No such file or directory"
    garbage = simulate("-", stdin="not json")
    assert garbage.returncode == 2
    assert garbage.stderr.startswith("stdin: not JSON:")


def test_a_scenario_prints_the_result_json_with_refused_events():
    scenario = json.loads((ROOT / "examples" / "scenarios" / "withdrawn.json").read_text())
    scenario["events"].append({"day": 11, "action": "withdraw", "reason": "again"})
    done = simulate("-", stdin=json.dumps(scenario))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "withdrawn"
    assert [s["status"] for s in result["status_changes"]] == ["received", "active", "withdrawn"]
    # The withdrawn case is in its claims run-out: it answers the claim dated on the
    # withdrawal's day itself (POLICY.md: dates of service before the withdrawal).
    assert [(c["status"], c["carc_codes"]) for c in result["claims"]] == [
        ("paid", []),
        ("denied", ["197"]),
    ]
    assert "withdrawal (2026-12-10)" in result["claims"][1]["message"]
    assert result["refusals"] == [
        {"day": 11, "action": "withdraw", "reason": "the case is withdrawn: nothing to withdraw"}
    ]


def test_an_event_or_claim_a_validator_rejects_is_listed_and_the_run_goes_on():
    scenario = json.loads((ROOT / "examples" / "scenarios" / "withdrawn.json").read_text())
    before = {"event_id": "EV-EARLY", "type": "death", "date": "2026-11-20"}  # before receipt
    other = {**scenario["events"][0]["claim"], "claim_id": "CLM-X", "member_id": "M-OTHER"}
    scenario["events"][1:1] = [
        {"day": 6, "action": "clinical_event", "event": before},
        {"day": 7, "action": "claim", "claim": other},
    ]
    done = simulate("-", stdin=json.dumps(scenario))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "withdrawn"  # the death before receipt changed nothing
    assert [(r["day"], r["action"]) for r in result["refusals"]] == [
        (6, "clinical_event"),
        (7, "claim"),
    ]
    assert all(r["reason"].startswith("rejected: ") for r in result["refusals"])
    assert "day of receipt" in result["refusals"][0]["reason"]
    rejected = result["claims"][1]
    assert (rejected["claim_id"], rejected["status"], rejected["carc_codes"]) == (
        "CLM-X",
        "denied",
        ["197"],
    )
