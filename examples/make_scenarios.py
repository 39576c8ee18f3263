"""Write the example scenarios of ``examples/scenarios/`` (CONTRACT.md, "Scenario").

    .venv/bin/python examples/make_scenarios.py

Each ``<track>_full.json`` lives one case of that track from the request to
its end: claims on the treatment days of every cycle the track allows, a
response assessment before each renewal window and a renewal request in it
(refused on the tracks that cannot be renewed); ``relapsed_refractory_prior3_full``
is the same after 3 prior cycles (cycles 4-6, then renewals 7-8 and 9). Dates come from the policy
data (domain.terms), so the scenarios follow the policy file. The other files
show one path each: pend then information, review then denial then appeal,
a renewal asked too early, expiry without renewal, withdrawal, late claims
after expiry (claims run-out).
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from example_requests import request  # noqa: E402

from domain.policy import load_policy  # noqa: E402
from domain.request import PARequest  # noqa: E402
from domain.terms import (  # noqa: E402
    cycle_plan,
    initial_authorization,
    renewal_authorization,
    renewal_window_opens,
)

UNITS_PER_VIAL = 35  # one 35 mcg single-dose vial a day, whole vials billed (Section II)
TREATMENT_DAYS = 28


def day_of(received: date, when: date) -> int:
    return (when - received).days


def claim(claim_id: str, when: date, units: int, **extra: Any) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "line": 1,
        "member_id": "M-1",
        "date_of_service": when.isoformat(),
        "hcpcs": "J9039",
        "ndc": "55513-0160-01",
        "units": units,
        "icd10_codes": ["C91.00"],
        **extra,
    }


def cycle_claims(received: date, number: int, start: date, weekly: bool) -> list[dict[str, Any]]:
    """Claim lines for one cycle: one a treatment day, or one a treatment week."""
    step, units = (7, 7 * UNITS_PER_VIAL) if weekly else (1, UNITS_PER_VIAL)
    events = []
    for offset in range(0, TREATMENT_DAYS, step):
        when = start + timedelta(days=offset)
        events.append(
            {
                "day": day_of(received, when),
                "action": "claim",
                "claim": claim(f"CLM-C{number}-D{offset + 1:02d}", when, units),
            }
        )
    return events


def response(received: date, when: date, event_id: str) -> dict[str, Any]:
    return {
        "day": day_of(received, when),
        "action": "clinical_event",
        "event": {
            "event_id": event_id,
            "type": "response_assessment",
            "date": when.isoformat(),
            "response_assessment": {"result": "complete_response", "method": "bone_marrow"},
        },
    }


def lifecycle(track: str, *, weekly: bool, prior: int = 0) -> dict[str, Any]:
    """A whole case of ``track``: every allowed period, cycle and renewal, after ``prior``
    cycles given before (Section I, prior therapy: the numbering continues)."""
    policy = load_policy()
    request_id = f"REQ-{track.upper().replace('_', '-')}" + (f"-PRIOR{prior}" if prior else "")
    data = request(track, request_id=request_id)
    data["therapy"]["prior_blinatumomab_cycles"] = prior
    req = PARequest.model_validate(data)
    received = req.received_on
    auth = initial_authorization(policy, track, req.period_start(), prior_cycles=prior)
    events: list[dict[str, Any]] = []
    renewals = 0
    while True:
        for planned in cycle_plan(policy, track, auth):
            events += cycle_claims(received, planned.cycle, planned.start, weekly)
        # A response before the window opens, the renewal request the day after it opens
        # (short periods: inside the period).
        opens = renewal_window_opens(policy, auth.end)
        assessed = max(auth.start + timedelta(days=1), opens - timedelta(days=5))
        asked = max(opens + timedelta(days=1), assessed + timedelta(days=1))
        events.append(response(received, assessed, f"EV-RESP-{renewals + 1}"))
        events.append({"day": day_of(received, asked), "action": "renewal_request", "request": {}})
        nxt = renewal_authorization(policy, track, auth.end, renewals, auth.last_cycle)
        if nxt is None:
            break
        auth, renewals = nxt, renewals + 1
    events.sort(key=lambda e: e["day"])
    return {
        "request": data,
        "events": events,
        "until_day": day_of(received, auth.end) + 2,
    }


def pend_then_info() -> dict[str, Any]:
    data = request("mrd_positive", request_id="REQ-PEND")
    data["diagnosis"]["mrd_percent"] = None
    return {
        "request": data,
        "events": [{"day": 3, "action": "provide_info", "facts": {"diagnosis.mrd_percent": 0.4}}],
        "until_day": 10,
    }


def review_deny_appeal() -> dict[str, Any]:
    # A 20-year-old on Ph-like single-agent consolidation (a pediatric use): the AYA
    # note ("up to 30") sends it to clinical review.
    data = request("consolidation", request_id="REQ-APPEAL")
    data["member"]["date_of_birth"] = "2006-06-01"
    data["diagnosis"]["ph_status"] = "ph_like"
    data["therapy"]["combined_with"] = []
    return {
        "request": data,
        "events": [
            {
                "day": 1,
                "action": "decide_review",
                "reviewer": "rph-1",
                "determination": "deny",
                "rationale": "AYA use not supported for this patient",
            },
            {"day": 20, "action": "appeal", "reason": "treating oncologist's letter attached"},
            {
                "day": 21,
                "action": "decide_review",
                "reviewer": "md-2",
                "determination": "approve",
                "rationale": "AYA protocol supported by the letter",
            },
        ],
        "until_day": 30,
    }


def renewal_too_early_then_expiry() -> dict[str, Any]:
    data = request("relapsed_refractory", request_id="REQ-EXPIRY")
    return {
        "request": data,
        "events": [{"day": 100, "action": "renewal_request", "request": {}}],
        "until_day": 215,
    }


def withdrawn() -> dict[str, Any]:
    data = request("consolidation", request_id="REQ-WITHDRAW")
    return {
        "request": data,
        "events": [
            {"day": 5, "action": "claim", "claim": claim("CLM-W-1", date(2026, 12, 5), 35)},
            {"day": 9, "action": "withdraw", "reason": "patient moved to another plan"},
            {"day": 10, "action": "claim", "claim": claim("CLM-W-2", date(2026, 12, 10), 35)},
        ],
        "until_day": 12,
    }


def claims_run_out() -> dict[str, Any]:
    """POLICY.md, Claims run-out: a relapsed/refractory case expires unrenewed; the claim
    for an infusion on its period's second-to-last day arrives nine days after the end
    and is paid; one arriving then for a date past the timely-filing limit is denied
    (CARC 29); once the run-out has passed, the case's run has ended (CARC 29 again)."""
    policy = load_policy()
    data = request("relapsed_refractory", request_id="REQ-RUN-OUT")
    req = PARequest.model_validate(data)
    received = req.received_on
    auth = initial_authorization(policy, "relapsed_refractory", req.period_start())
    limit = policy.timely_filing_days(req.line_of_business) or 0
    late = auth.end + timedelta(days=9)
    run_out_until = auth.end + timedelta(days=limit)
    after = run_out_until + timedelta(days=1)
    return {
        "request": data,
        "events": [
            {
                "day": day_of(received, auth.start),
                "action": "claim",
                "claim": claim("CLM-RO-1", auth.start, UNITS_PER_VIAL),
            },
            {
                "day": day_of(received, late),
                "action": "claim",
                "claim": claim("CLM-RO-2", auth.end - timedelta(days=1), UNITS_PER_VIAL),
            },
            {
                "day": day_of(received, late),
                "action": "claim",
                "claim": claim("CLM-RO-3", late - timedelta(days=limit + 1), UNITS_PER_VIAL),
            },
            {
                "day": day_of(received, after),
                "action": "claim",
                "claim": claim("CLM-RO-4", auth.end - timedelta(days=2), UNITS_PER_VIAL),
            },
        ],
        "until_day": day_of(received, after) + 1,
    }


SCENARIOS = {
    "relapsed_refractory_full": lambda: lifecycle("relapsed_refractory", weekly=False),
    "maintenance_full": lambda: lifecycle("maintenance", weekly=False),
    "relapsed_refractory_prior3_full": lambda: lifecycle(
        "relapsed_refractory", weekly=True, prior=3
    ),
    "relapsed_refractory_aall1331_full": lambda: lifecycle(
        "relapsed_refractory_aall1331", weekly=True
    ),
    "frontline_induction_full": lambda: lifecycle("frontline_induction", weekly=True),
    "consolidation_full": lambda: lifecycle("consolidation", weekly=True),
    "mrd_positive_full": lambda: lifecycle("mrd_positive", weekly=True),
    "infant_interfant_full": lambda: lifecycle("infant_interfant", weekly=True),
    "pend_then_info": pend_then_info,
    "review_deny_appeal": review_deny_appeal,
    "renewal_too_early_then_expiry": renewal_too_early_then_expiry,
    "withdrawn": withdrawn,
    "claims_run_out": claims_run_out,
}


def main() -> None:
    out = HERE / "scenarios"
    out.mkdir(exist_ok=True)
    for name, make in SCENARIOS.items():
        scenario = make()
        (out / f"{name}.json").write_text(json.dumps(scenario, indent=1) + "\n")
        claims = sum(1 for e in scenario["events"] if e["action"] == "claim")
        print(f"{name}.json: {len(scenario['events'])} events, {claims} claim lines")


if __name__ == "__main__":
    main()
