"""The `priorauth` case subcommands against the API over real HTTP (uvicorn on a free port).

Each command prints a table (or JSON with --json); a refusal is one readable
line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import threading
from datetime import timedelta
from pathlib import Path

import cli
from tests.api_tokens import TOKENS
from tests.e2e.conftest import claim_for, make_request, today


class _ThreadStreams:
    """sys.stdout/sys.stderr that route the CLI thread's writes to its own buffer.

    The worker and the API keep logging from the event loop's thread meanwhile;
    a plain ``redirect_stdout`` would mix their lines into the CLI's output.
    """

    def __init__(self, original, buffers: dict[int, io.StringIO]) -> None:
        self._original = original
        self._buffers = buffers

    def write(self, text: str) -> int:
        target = self._buffers.get(threading.get_ident(), self._original)
        return target.write(text)

    def flush(self) -> None:
        self._original.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str):
        return getattr(self._original, name)


async def priorauth(live_api, *argv: str, role: str = "admin") -> tuple[int, str, str]:
    """Run ``priorauth ARGV`` in a thread (the API keeps serving on this loop)."""
    args = [argv[0], "--api-url", live_api.url, "--token", TOKENS[role], *argv[1:]]
    outs: dict[int, io.StringIO] = {}
    errs: dict[int, io.StringIO] = {}

    def run() -> int:
        me = threading.get_ident()
        outs[me], errs[me] = io.StringIO(), io.StringIO()
        return cli.main(args)

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ThreadStreams(saved[0], outs), _ThreadStreams(saved[1], errs)
    try:
        code = await asyncio.to_thread(run)
    finally:
        sys.stdout, sys.stderr = saved
    (out,), (err,) = outs.values(), errs.values()
    return code, out.getvalue(), err.getvalue()


def _write(tmp_path: Path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


async def test_submit_claim_event_status_list_and_timeline_from_the_cli(live_api, tmp_path):
    request = make_request()
    case_id = f"pa-{request['request_id']}"
    req_file = _write(tmp_path, "request.json", request)

    code, out, err = await priorauth(live_api, "submit", req_file, role="intake")
    assert (code, err) == (0, "")
    assert out.strip() == f"{case_id}  started  status=active"
    code, out, _ = await priorauth(live_api, "submit", req_file, role="intake")
    assert code == 0 and "already exists" in out

    claim_file = _write(tmp_path, "claim.json", claim_for(request, units=63))
    code, out, _ = await priorauth(live_api, "claim", request["request_id"], claim_file, "--json")
    assert code == 0 and json.loads(out)["status"] == "paid"
    code, out, _ = await priorauth(live_api, "claim", case_id, claim_file, role="claims")
    assert code == 0 and "paid" in out and "allowed_units" in out

    event = {"event_id": "EV-CLI", "type": "weight", "date": today().isoformat(),
             "weight": {"weight_kg": 70.0}}  # fmt: skip
    code, out, _ = await priorauth(
        live_api, "event", case_id, _write(tmp_path, "e.json", event), role="clinical"
    )
    assert code == 0 and out.strip() == f"{case_id}  event EV-CLI accepted"

    code, out, _ = await priorauth(live_api, "status", case_id, role="read-only")
    assert code == 0
    for text in (case_id, "relapsed_refractory", "periods", "claims", "decisions", "notices"):
        assert text in out, text
    code, out, _ = await priorauth(live_api, "status", case_id, "--json", role="reviewer")
    assert json.loads(out)["units"]["units_paid"] == 63

    for _ in range(50):
        code, out, _ = await priorauth(live_api, "list", "--status", "active", "--json")
        if case_id in out:
            break
        await asyncio.sleep(0.2)
    assert case_id in [c["case_id"] for c in json.loads(out)["cases"]]
    code, out, _ = await priorauth(live_api, "list", "--track", "relapsed_refractory")
    assert code == 0 and "case(s)" in out

    svg = tmp_path / "case.svg"
    code, out, _ = await priorauth(live_api, "timeline", case_id, "-o", str(svg))
    assert code == 0 and svg.read_text().startswith("<svg") and case_id in svg.read_text()


async def test_case_actions_from_the_cli(live_api, tmp_path):
    pended = make_request(base="request-pend.json")
    review = make_request(base="request-review.json")
    for request in (pended, review):
        code, _, err = await priorauth(
            live_api, "submit", _write(tmp_path, f"{request['request_id']}.json", request)
        )
        assert code == 0, err
    p, r = f"pa-{pended['request_id']}", f"pa-{review['request_id']}"

    code, out, _ = await priorauth(
        live_api, "info", p, "--set", "diagnosis.mrd_percent=0.4", "--json", role="intake"
    )
    assert code == 0 and json.loads(out)["status"] == "active"
    code, out, _ = await priorauth(
        live_api, "extend", p, "--days", "7", "--rationale", "held",
        role="reviewer",
    )  # fmt: skip
    assert code == 0 and "period extended" in out
    code, out, err = await priorauth(live_api, "renew", p, role="intake")
    assert code == 1 and out == ""
    assert err.startswith("priorauth renew: 409 refused: ") and "Traceback" not in err

    code, out, _ = await priorauth(
        live_api, "review", r, "deny", "--rationale", "not listed",
        role="reviewer",
    )  # fmt: skip
    assert code == 0 and "denied" in out
    code, out, _ = await priorauth(live_api, "appeal", r, "--reason", "new data", role="intake")
    assert code == 0 and "appeal taken" in out
    code, out, _ = await priorauth(live_api, "withdraw", r, "--reason", "trial", role="intake")
    assert code == 0 and "withdrawn" in out
    code, _, err = await priorauth(live_api, "withdraw", r, role="intake")
    assert code == 1 and "409" in err and "withdrawn" in err


async def test_claims_for_a_case_in_run_out_and_after_it_from_the_cli(live_api, tmp_path):
    stack = live_api.stack
    ongoing = make_request(start=today() - timedelta(days=240))  # expired, in run-out
    over = make_request(start=today() - timedelta(days=600))  # run-out long over
    await stack.submit(ongoing)
    assert await stack.wait_status(f"pa-{ongoing['request_id']}", "expired") == "expired"
    await stack.submit(over)
    late = claim_for(ongoing, date_of_service=(today() - timedelta(days=40)).isoformat())
    code, out, _ = await priorauth(
        live_api, "claim", ongoing["request_id"], _write(tmp_path, "late.json", late), "--json"
    )
    assert code == 0 and json.loads(out)["status"] == "paid"
    code, out, _ = await priorauth(live_api, "status", ongoing["request_id"], role="read-only")
    until = today() - timedelta(days=240) + timedelta(days=209 + 180)
    assert code == 0 and "claims run-out until" in out and until.isoformat() in out

    gone = claim_for(over, date_of_service=(today() - timedelta(days=500)).isoformat())
    over_id = f"pa-{over['request_id']}"
    for _ in range(100):  # it ends at once: wait for that, not for a status query
        if (await stack.client.get_workflow_handle(over_id).describe()).close_time:
            break
        await asyncio.sleep(0.2)
    code, out, err = await priorauth(
        live_api, "claim", over["request_id"], _write(tmp_path, "gone.json", gone), role="claims"
    )
    assert code == 1 and out == ""
    assert "409" in err and "claims run-out ended" in err and "Traceback" not in err


async def test_bulk_load_with_a_progress_summary(live_api, tmp_path):
    start = today() - timedelta(days=3)
    requests = [make_request(start=start) for _ in range(3)]
    lines = [json.dumps(r) for r in requests]
    lines.append(json.dumps(requests[0]))  # the same request again: starts nothing
    claim = claim_for(requests[1], date_of_service=start.isoformat())
    lines.append(json.dumps({"op": "claim", "case": requests[1]["request_id"], "body": claim}))
    lines.append("{not json")
    lines.append(json.dumps({"op": "teleport", "case": "x", "body": {}}))
    bad = make_request()
    bad["line_of_business"] = "cash"
    lines.append(json.dumps(bad))
    path = tmp_path / "bulk.jsonl"
    path.write_text("\n".join(lines) + "\n\n")

    code, out, err = await priorauth(live_api, "load", str(path))
    assert code == 2  # bad input among the lines (not JSON, unknown op, a 422)
    assert "loaded 5 of 8 line(s): 3 case(s) started, 1 already there, 1 other" in out
    assert "line 6: not valid JSON" in err
    assert "line 7: unknown op 'teleport'" in err
    assert "line 8: 422 invalid" in err and "line_of_business" in err
    assert "Traceback" not in out + err
    for request in requests:
        await live_api.stack.case(f"pa-{request['request_id']}")


async def test_refusals_are_one_line_with_a_non_zero_exit(live_api, tmp_path):
    code, out, err = await priorauth(live_api, "status", "pa-NOPE", role="read-only")
    assert (code, out) == (1, "")
    assert err == "priorauth status: 404 not_found: no case pa-NOPE\n"

    code, _, err = await priorauth(live_api, "list", role="claims")
    assert code == 1 and err.startswith("priorauth list: 403 forbidden")

    code, _, err = await priorauth(live_api, "submit", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err

    broken = tmp_path / "broken.json"
    broken.write_text("{")
    code, _, err = await priorauth(live_api, "submit", str(broken))
    assert code == 2 and "not valid JSON" in err

    invalid = make_request()
    invalid["member"]["date_of_birth"] = "yesterday"
    code, _, err = await priorauth(live_api, "submit", _write(tmp_path, "i.json", invalid))
    assert code == 2 and "422 invalid" in err and "member.date_of_birth" in err


async def test_a_request_for_another_drug_is_exit_2_naming_the_field(live_api, tmp_path):
    for service, field in (
        ({"hcpcs": "J9999"}, "service.hcpcs"),
        ({"ndc": "00000-0000-00"}, "service.ndc"),
    ):
        request = make_request()
        request["service"].update(service)
        code, out, err = await priorauth(live_api, "submit", _write(tmp_path, "d.json", request))
        assert (code, out) == (2, ""), err
        assert err.startswith("priorauth submit: 422 invalid:") and f"{field}: " in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        case_id = f"pa-{request['request_id']}"
        assert await live_api.stack.workflow_count(f"WorkflowId = '{case_id}'") == 0

    request = make_request()
    request["service"]["ndc"] = "55513016001"
    code, out, err = await priorauth(live_api, "submit", _write(tmp_path, "ok.json", request))
    assert code == 0 and "started" in out, err


async def test_an_event_outside_the_case_days_is_exit_2_and_a_conflict_exit_1(live_api, tmp_path):
    request = make_request()
    case_id = (await live_api.stack.submit(request))["case_id"]
    late = {"event_id": "EV-L", "type": "death", "date": (today() + timedelta(days=1)).isoformat()}
    code, _, err = await priorauth(live_api, "event", case_id, _write(tmp_path, "l.json", late))
    assert code == 2 and "422 invalid" in err and "date: " in err
    tox = {"event_id": "EV-T", "type": "toxicity", "date": today().isoformat(),
           "toxicity": {"kind": "crs", "grade": 2}}  # fmt: skip
    assert (await priorauth(live_api, "event", case_id, _write(tmp_path, "t.json", tox)))[0] == 0
    for n in (1, 2):
        undo = {"event_id": f"EV-U{n}", "type": "retraction", "date": today().isoformat(),
                "retraction": {"retracts": "EV-T", "reason": "entered in error"}}  # fmt: skip
        code, _, err = await priorauth(live_api, "event", case_id, _write(tmp_path, "u.json", undo))
    assert code == 1 and "409" in err and "already retracted" in err


def test_an_unreachable_api_is_exit_3_without_a_traceback(capsys):
    code = cli.main(["status", "pa-X", "--api-url", "http://127.0.0.1:9", "--token", "t"])
    captured = capsys.readouterr()
    assert code == 3
    assert captured.err.startswith("priorauth status: cannot reach the API at http://127.0.0.1:9")
    assert "Traceback" not in captured.err
