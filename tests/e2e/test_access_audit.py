"""Every read and write of case data leaves an access_audit row, refusals too (api/audit.py),
and `priorauth report access` prints them."""

from __future__ import annotations

import asyncio
import json

import httpx

import cli
from tests.api_tokens import auth, auth_as
from tests.e2e.conftest import make_request

PLAIN = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IjEi"}]}


def _printed_json(out: str) -> list[dict]:
    """The JSON list the report printed (the worker of this test logs to stdout too)."""
    lines = out.splitlines()
    start, end = lines.index("["), lines.index("]")
    return json.loads("\n".join(lines[start : end + 1]))


async def _rows(stack) -> list[dict]:
    rows = await stack.pool.fetch(
        "SELECT subject, roles, auth, action, method, route, case_id, case_ids, query, payloads,"
        " namespace, status, correlation_id FROM access_audit ORDER BY id"
    )
    return [dict(r) for r in rows]


async def test_every_read_and_write_leaves_a_row_with_the_subject_and_the_outcome(stack):
    http = stack.http
    case_id = (await stack.submit(make_request(base="request-review.json")))["case_id"]
    assert await stack.wait_status(case_id, "in_review") == "in_review"
    before = len(await _rows(stack))  # wait_status polled GET /cases/{id} as the reviewer

    calls = [
        (http.get(f"/cases/{case_id}", headers=auth("read-only")), 200),
        (http.get("/cases/pa-NO-SUCH-CASE", headers=auth("read-only")), 404),
        (http.get(f"/cases/{case_id}"), 401),
        (http.post(f"/cases/{case_id}/review", json={}, headers=auth("read-only")), 403),
        (http.post(f"/cases/{case_id}/review", json={"determination": "x"},
                   headers=auth("reviewer")), 422),
        (http.post(f"/cases/{case_id}/appeal", json={}, headers=auth("intake")), 409),
        (http.post(f"/cases/{case_id}/review", json={"determination": "deny"},
                   headers=auth_as("md-ben")), 200),
        (http.get(f"/cases/{case_id}/timeline.svg", headers=auth("reviewer")), 200),
        (http.get("/cases", params={"status": "denied"}, headers=auth("read-only")), 200),
        (http.post("/codec/decode", json=PLAIN, headers={**auth("reviewer"),
                   "X-Namespace": "default", "X-Workflow-Id": case_id}), 200),
    ]  # fmt: skip
    for call, expected in calls:
        r = await call
        assert r.status_code == expected, (expected, r.text)

    rows = (await _rows(stack))[before:]
    got = [(r["subject"], r["action"], r["method"], r["case_id"], r["status"]) for r in rows]
    assert got[:8] == [
        ("auditor", "read", "GET", case_id, 200),
        ("auditor", "read", "GET", "pa-NO-SUCH-CASE", 404),
        (None, "read", "GET", case_id, 401),
        ("auditor", "decide_review", "POST", case_id, 403),
        ("rph-ana", "decide_review", "POST", case_id, 422),
        ("intake-desk", "appeal", "POST", case_id, 409),
        ("md-ben", "decide_review", "POST", case_id, 200),
        ("rph-ana", "timeline", "GET", case_id, 200),
    ]
    search, decode = rows[8], rows[9]
    assert (search["subject"], search["action"], search["status"]) == ("auditor", "search", 200)
    assert "AuthStatus" in search["query"] and isinstance(search["case_ids"], list)
    assert (decode["subject"], decode["action"], decode["case_id"]) == (
        "rph-ana",
        "decode",
        case_id,
    )
    assert (decode["payloads"], decode["namespace"]) == (1, "default")
    assert decode["roles"] == ["reviewer"]
    assert rows[0]["route"] == "/cases/{case_id}" and rows[0]["auth"] == "token"
    assert all(r["correlation_id"] for r in rows)
    submit = (await _rows(stack))[0]
    assert (submit["subject"], submit["action"], submit["case_id"], submit["status"]) == (
        "intake-desk",
        "submit",
        case_id,
        201,
    )


async def test_a_search_row_lists_the_cases_it_returned(stack):
    case_id = (await stack.submit(make_request()))["case_id"]
    for _ in range(50):  # visibility is eventually consistent
        r = await stack.http.get("/cases", params={"status": "active"}, headers=auth("reviewer"))
        if case_id in [c["case_id"] for c in r.json()["cases"]]:
            break
        await asyncio.sleep(0.2)
    row = (await _rows(stack))[-1]
    assert row["action"] == "search" and case_id in row["case_ids"]


async def test_no_row_no_answer_for_a_read(stack):
    """A read whose audit row cannot be written is not answered: the data stays in."""
    from api.app import create_app

    app = create_app(stack.settings, client=stack.client)  # no pool: nowhere to write the row
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as http:
        r = await http.post("/codec/decode", json=PLAIN, headers=auth("reviewer"))
    assert r.status_code == 503
    assert "payloads" not in r.text and "audited" in r.json()["message"]
    assert r.json()["correlation_id"] == r.headers["x-correlation-id"]


async def test_report_access_prints_who_did_what_to_a_case(stack, db_url, monkeypatch, capsys):
    case_id = (await stack.submit(make_request()))["case_id"]
    await stack.http.get(f"/cases/{case_id}", headers=auth("read-only"))
    await stack.http.get(f"/cases/{case_id}", headers=auth("claims"))  # 403
    await stack.http.get("/cases/pa-OTHER", headers=auth("read-only"))  # 404, another case
    monkeypatch.setenv("DATABASE_URL", db_url)
    capsys.readouterr()

    code = await asyncio.to_thread(cli.main, ["report", "access", "--case", case_id, "--json"])
    assert code == 0
    rows = _printed_json(capsys.readouterr().out)
    assert [(r["subject"], r["action"], r["status"]) for r in rows] == [
        ("intake-desk", "submit", 201),
        ("auditor", "read", 200),
        ("claims-system", "read", 403),
    ]
    assert {r["case_id"] for r in rows} == {case_id}

    code = await asyncio.to_thread(
        cli.main, ["report", "access", "--subject", "auditor", "--since", "2000-01-01", "--json"]
    )
    assert code == 0
    rows = _printed_json(capsys.readouterr().out)
    assert [(r["case_id"], r["status"]) for r in rows] == [(case_id, 200), ("pa-OTHER", 404)]

    request_id = case_id.removeprefix("pa-")
    code = await asyncio.to_thread(cli.main, ["report", "access", "--case", request_id])
    out = capsys.readouterr().out
    assert code == 0
    assert "auditor" in out and "claims-system" in out and "403" in out
    assert "intake-desk" in out and "submit" in out


async def test_a_request_refused_before_routing_is_audited_too(api_only, db_pool):
    body = b'{"claim_id": "' + b"a" * 300_000 + b'"}'
    r = await api_only.post(
        "/cases/pa-BIG/claims",
        content=body,
        headers={**auth("claims"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    row = await db_pool.fetchrow("SELECT subject, action, route, case_id, status FROM access_audit")
    assert dict(row) == {
        "subject": None,  # refused before the credential was read
        "action": "unrouted",
        "route": "/cases/pa-BIG/claims",
        "case_id": "pa-BIG",
        "status": 413,
    }
