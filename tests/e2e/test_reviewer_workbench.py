"""The reviewer workbench end to end: uvicorn + Temporal dev server + worker + PostgreSQL.

Each test runs its own Temporal dev server, so the queue holds exactly its cases.
A reviewer logs in in headless Chromium, finds the escalated case first, reads
its criteria tree and approves it; the case is ``active`` in Temporal with the
reviewer on the decision row. The reviewer who denied a case cannot decide its
appeal; a read-only user cannot post a decision even with a well-formed form;
posts without the session's CSRF token are refused. axe-core finds no serious
or critical violation on the queue or the case page.

With ``WORKBENCH_SCREENSHOTS=<dir>`` the first test saves the queue and the case
page as PNGs there (scripts/workbench-screenshots; README, "Reviewer workbench").
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from temporalio.client import Client

from infra.settings import Settings
from tests.api_tokens import PEOPLE, auth, auth_as
from tests.browser import chromium
from tests.e2e.conftest import e2e_settings, make_request
from tests.served_api import served_api
from workflows.messages import CaseStatusView

REVIEW_BASE = "request-review.json"  # single-agent consolidation: the engine recommends deny
FAILING_CRITERION = "A-CONS-PHNEG-2"  # "used with multiagent chemotherapy": not met
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Bench:
    url: str
    client: Client
    pool: Any
    settings: Settings

    async def submit(self, **changes: Any) -> str:
        body = make_request(base=REVIEW_BASE, **changes)
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
            r = await http.post("/cases", json=body, headers=auth("intake"))
        assert r.status_code == 201, r.text
        return r.json()["case_id"]

    async def api(self, method: str, path: str, who: str, **kw: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
            return await http.request(method, path, headers=auth_as(who), **kw)

    async def status(self, case_id: str) -> CaseStatusView:
        handle = self.client.get_workflow_handle(case_id)
        return await handle.query("status", result_type=CaseStatusView)

    async def wait(self, case_id: str, check, within_s: float = 30.0) -> CaseStatusView:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while True:
            view = await self.status(case_id)
            if check(view) or loop.time() > deadline:
                return view
            await asyncio.sleep(0.2)


@pytest_asyncio.fixture
async def bench(db_pool, runtime_pool, task_queue) -> AsyncIterator[Bench]:
    """Its own dev server; a worker; the API over HTTP; expedited reviews escalate at once
    (a 24 h clock escalates 30 h before it is due), standard ones (72 h) do not."""
    import worker
    from infra.devserver import DevServer, free_port
    from infra.temporal import connect

    server = DevServer(port=free_port(), ui_port=None)
    await server.start()
    try:
        client = await connect(server.address)
        settings = e2e_settings(task_queue, escalate_before_hours=30)
        async with (
            worker.build_worker(client, runtime_pool, settings),
            served_api(settings, client, runtime_pool) as url,
        ):
            yield Bench(url=url, client=client, pool=db_pool, settings=settings)
    finally:
        server.stop()


async def _login(http: httpx.AsyncClient, subject: str) -> str:
    """Log ``subject`` in through the form; the session's CSRF token (from the queue page)."""
    form = await http.get("/workbench/login")
    assert form.status_code == 200
    token = CSRF.search(form.text).group(1)
    r = await http.post("/workbench/login", data={"token": PEOPLE[subject][0], "csrf_token": token})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/workbench"
    cookie = next(h for h in r.headers.get_list("set-cookie") if "priorauth_workbench=" in h)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/workbench" in cookie
    return await _csrf(http, "/workbench")


async def _csrf(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def _axe_serious(browser) -> list[str]:
    from axe_selenium_python import Axe

    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _reviewer_approves_in_the_browser(url: str, escalated: str, calm: str) -> dict[str, Any]:
    """The browser part of the first test (blocking selenium, run in a thread)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    shots = os.environ.get("WORKBENCH_SCREENSHOTS")
    seen: dict[str, Any] = {}
    browser = chromium()
    try:
        browser.get(f"{url}/workbench")
        assert browser.current_url.endswith("/workbench/login")
        field = browser.find_element(By.ID, "token")
        field.send_keys(PEOPLE["rph-ana"][0])
        field.send_keys(Keys.ENTER)  # the keyboard alone logs in
        rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr[data-case]")
        seen["queue"] = [r.get_attribute("data-case") for r in rows]
        seen["first_row"] = rows[0].text if rows else ""
        seen["queue_axe"] = _axe_serious(browser)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(Path(shots) / "workbench-queue.png"))
        browser.find_element(By.LINK_TEXT, escalated).click()
        seen["title"] = browser.find_element(By.TAG_NAME, "h1").text
        node = browser.find_element(By.CSS_SELECTOR, f'li[data-criterion="{FAILING_CRITERION}"]')
        seen["failing_node"] = (node.get_attribute("data-verdict"), node.is_displayed())
        seen["page_text"] = browser.find_element(By.TAG_NAME, "main").text
        seen["case_axe"] = _axe_serious(browser)
        if shots:
            browser.set_window_size(1400, 2400)
            browser.execute_script("window.scrollTo(0, 0)")
            browser.save_screenshot(str(Path(shots) / "workbench-case.png"))
            browser.set_window_size(1400, 1000)
        browser.find_element(
            By.CSS_SELECTOR, 'input[name="determination"][value="approve"]'
        ).click()
        browser.find_element(By.ID, "f-rationale").send_keys(
            "Consolidation after first CR; multiagent backbone documented in the chart."
        )
        Select(browser.find_element(By.ID, "f-track")).select_by_value("consolidation")
        browser.find_element(By.CSS_SELECTOR, 'form[action$="/decision"] button').click()
        WebDriverWait(browser, 30).until(lambda b: "decided=" in b.current_url)
        seen["after"] = browser.find_element(By.TAG_NAME, "main").text
        seen["after_url"] = browser.current_url
    finally:
        browser.quit()
    return seen


async def test_a_reviewer_logs_in_takes_the_escalated_case_first_and_approves_it(bench):
    calm = await bench.submit(urgency="standard")  # 72 h on the clock: not escalated
    escalated = await bench.submit(urgency="expedited", line_of_business="medicaid")
    await bench.wait(calm, lambda v: v.review_kind == "initial")
    view = await bench.wait(escalated, lambda v: v.escalated)
    assert view.escalated and view.review_kind == "initial"

    seen = await asyncio.to_thread(_reviewer_approves_in_the_browser, bench.url, escalated, calm)

    assert seen["queue"] == [escalated, calm]  # escalated first (submitted second)
    assert "escalated" in seen["first_row"] and "medicaid" in seen["first_row"]
    assert "left" in seen["first_row"] and "deny" in seen["first_row"]
    assert seen["queue_axe"] == []
    assert seen["title"] == f"Case {escalated}"
    assert seen["failing_node"] == ("not_met", True)
    member_id = f"M-{escalated.removeprefix('pa-')}"
    assert "not met" in seen["page_text"] and member_id in seen["page_text"]  # PHI: a reviewer
    assert seen["case_axe"] == []
    assert "Your decision (approve) was recorded; the case is now active" in seen["after"]

    final = await bench.status(escalated)
    assert final.status == "active" and final.review_kind is None
    described = await bench.client.get_workflow_handle(escalated).describe()
    from infra.temporal import AUTH_STATUS

    assert described.typed_search_attributes.get(AUTH_STATUS) == "active"
    rows = await bench.pool.fetch(
        "SELECT reviewer_id, actor, determination, rationale FROM decisions"
        " WHERE case_id = $1 AND NOT automated",
        escalated,
    )
    assert [(r["reviewer_id"], r["actor"], r["determination"]) for r in rows] == [
        ("rph-ana", "rph-ana", "approve")
    ]
    assert rows[0]["rationale"].startswith("Consolidation after first CR")
    audit = await bench.pool.fetch(
        "SELECT action, subject, status FROM access_audit WHERE case_id = $1 ORDER BY id",
        escalated,
    )
    actions = [(a["action"], a["subject"], a["status"]) for a in audit]
    assert ("workbench_case", "rph-ana", 200) in actions
    assert actions.count(("workbench_decide", "rph-ana", 303)) == 1
    notices = await bench.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE case_id = $1 AND actor = 'rph-ana'", escalated
    )
    assert notices == 1
    queue_rows = await bench.pool.fetch(
        "SELECT case_ids FROM access_audit WHERE action = 'workbench_queue' AND subject = 'rph-ana'"
    )
    assert any(escalated in (r["case_ids"] or []) for r in queue_rows)
    assert (await bench.status(calm)).review_kind == "initial"  # untouched, still in review


async def test_the_reviewer_who_denied_a_case_cannot_decide_its_appeal(bench):
    case_id = await bench.submit()
    await bench.wait(case_id, lambda v: v.review_kind == "initial")
    r = await bench.api(
        "POST", f"/cases/{case_id}/review", "rph-ana",
        json={"determination": "deny", "rationale": "not a listed use"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    r = await bench.api("POST", f"/cases/{case_id}/appeal", "intake-desk", json={"reason": "x"})
    assert r.status_code == 200, r.text
    await bench.wait(case_id, lambda v: v.review_kind == "appeal")

    async with httpx.AsyncClient(base_url=bench.url, timeout=60) as ana:
        csrf = await _login(ana, "rph-ana")
        queue = await ana.get("/workbench", params={"kind": "appeal"})
        assert case_id in queue.text
        page = await ana.get(f"/workbench/cases/{case_id}")
        assert "You denied this case, so its appeal is decided by another reviewer" in page.text
        assert "Send decision" not in page.text
        forged = await ana.post(
            f"/workbench/cases/{case_id}/decision",
            data={"csrf_token": csrf, "determination": "approve", "rationale": "mine now"},
        )
        assert forged.status_code == 409
        assert "decided by a reviewer other than the one who denied" in forged.text
    assert (await bench.status(case_id)).review_kind == "appeal"

    async with httpx.AsyncClient(base_url=bench.url, timeout=60) as ben:
        csrf = await _login(ben, "md-ben")
        page = await ben.get(f"/workbench/cases/{case_id}")
        assert "Send decision" in page.text and "rph-ana (may not decide the appeal)" in page.text
        r = await ben.post(
            f"/workbench/cases/{case_id}/decision",
            data={
                "csrf_token": csrf,
                "determination": "approve",
                "rationale": "overturned on appeal",
                "track": "consolidation",
            },
        )
        assert r.status_code == 303, r.text
    assert (await bench.status(case_id)).status == "active"


async def test_a_read_only_user_sees_the_queue_but_cannot_post_a_decision(bench):
    case_id = await bench.submit()
    await bench.wait(case_id, lambda v: v.review_kind == "initial")
    async with httpx.AsyncClient(base_url=bench.url, timeout=60) as auditor:
        csrf = await _login(auditor, "auditor")
        queue = await auditor.get("/workbench")
        assert case_id in queue.text and "Your role reads the queue" in queue.text
        page = await auditor.get(f"/workbench/cases/{case_id}")
        assert page.status_code == 200
        assert "Send decision" not in page.text
        assert "shown to reviewers only" in page.text
        assert f"M-{case_id.removeprefix('pa-')}" not in page.text  # no member id: no PHI
        forged = await auditor.post(
            f"/workbench/cases/{case_id}/decision",
            data={"csrf_token": csrf, "determination": "approve", "rationale": "forged"},
        )
        assert forged.status_code == 403
    assert (await bench.status(case_id)).review_kind == "initial"
    assert not await bench.pool.fetchval(
        "SELECT count(*) FROM decisions WHERE case_id = $1 AND NOT automated", case_id
    )
    refused = await bench.pool.fetchval(
        "SELECT status FROM access_audit WHERE action = 'workbench_decide' AND subject = 'auditor'"
    )
    assert refused == 403


async def test_posts_without_the_sessions_csrf_token_are_refused(bench):
    case_id = await bench.submit()
    await bench.wait(case_id, lambda v: v.review_kind == "initial")
    decision = {"determination": "deny", "rationale": "no"}
    async with (
        httpx.AsyncClient(base_url=bench.url, timeout=60) as ana,
        httpx.AsyncClient(base_url=bench.url, timeout=60) as ben,
    ):
        await _login(ana, "rph-ana")
        bens_token = await _login(ben, "md-ben")
        path = f"/workbench/cases/{case_id}/decision"
        assert (await ana.post(path, data=decision)).status_code == 403
        assert (await ana.post(path, data={**decision, "csrf_token": ""})).status_code == 403
        other = await ana.post(path, data={**decision, "csrf_token": bens_token})
        assert other.status_code == 403  # another session's token is not this one's
        assert (await ana.post("/workbench/logout", data={})).status_code == 403
        assert (await ana.get("/workbench")).status_code == 200  # still logged in
        # No session at all: a 401, nothing decided.
        anonymous = await httpx.AsyncClient(base_url=bench.url).post(path, data=decision)
        assert anonymous.status_code == 401
        # The login form needs its own one-time token too (no login CSRF).
        fresh = httpx.AsyncClient(base_url=bench.url)
        r = await fresh.post("/workbench/login", data={"token": PEOPLE["rph-ana"][0]})
        assert r.status_code == 403 and "priorauth_workbench=" not in r.headers.get(
            "set-cookie", ""
        )
    assert (await bench.status(case_id)).review_kind == "initial"
    assert not await bench.pool.fetchval(
        "SELECT count(*) FROM decisions WHERE case_id = $1 AND NOT automated", case_id
    )


async def test_a_reviewer_extends_the_clock_once_then_approves_fewer_units(bench):
    case_id = await bench.submit()
    view = await bench.wait(case_id, lambda v: v.review_kind == "initial")
    due = view.review_due
    assert due is not None
    # The API: bad days or no reason are 422 naming the field; nothing changes.
    for body, field in (({"days": 15, "reason": "x"}, "days"), ({"days": 3}, "reason")):
        r = await bench.api("POST", f"/cases/{case_id}/review/extension", "rph-ana", json=body)
        assert r.status_code == 422 and field in r.text, r.text
    r = await bench.api(
        "POST", f"/cases/{case_id}/review/extension", "intake-desk", json={"days": 3, "reason": "x"}
    )
    assert r.status_code == 403

    async with httpx.AsyncClient(base_url=bench.url, timeout=60) as ana:
        csrf = await _login(ana, "rph-ana")
        page = await ana.get(f"/workbench/cases/{case_id}")
        assert 'for="f-ext-days"' in page.text and 'for="f-authorized_units"' in page.text
        no_csrf = await ana.post(
            f"/workbench/cases/{case_id}/review/extension", data={"days": "3", "reason": "x"}
        )
        assert no_csrf.status_code == 403
        r = await ana.post(
            f"/workbench/cases/{case_id}/review/extension",
            data={"csrf_token": csrf, "days": "3", "reason": "waiting for the marrow report"},
        )
        assert r.status_code == 303, r.text
        page = await ana.get(r.headers["location"])
        assert "(extended by 3 days)" in page.text and "cannot be extended again" in page.text
        assert (await bench.status(case_id)).review_due == due + timedelta(days=3)
        again = await bench.api(
            "POST", f"/cases/{case_id}/review/extension", "rph-ana",
            json={"days": 1, "reason": "more"},
        )  # fmt: skip
        assert again.status_code == 409 and "already extended" in again.text
        row = await bench.pool.fetchrow(
            "SELECT reviewer_id, extends_review FROM decisions "
            "WHERE case_id = $1 AND kind = 'review_extension'",
            case_id,
        )
        assert (row["reviewer_id"], row["extends_review"]) == ("rph-ana", "initial")

        too_many = await ana.post(
            f"/workbench/cases/{case_id}/decision",
            data={
                "csrf_token": csrf,
                "determination": "approve",
                "rationale": "one cycle first",
                "track": "consolidation",
                "authorized_units": "999999",
            },
        )
        assert too_many.status_code == 409 and "Section II" in too_many.text
        r = await ana.post(
            f"/workbench/cases/{case_id}/decision",
            data={
                "csrf_token": csrf,
                "determination": "approve",
                "rationale": "one cycle first",
                "track": "consolidation",
                "authorized_units": "100",
            },
        )
        assert r.status_code == 303, r.text
    view = await bench.wait(case_id, lambda v: v.status == "active")
    assert view.status == "active" and view.units_authorized == 100
    units = await bench.pool.fetchval(
        "SELECT units_authorized FROM authorizations WHERE case_id = $1", case_id
    )
    granted = await bench.pool.fetchval(
        "SELECT granted FROM decisions WHERE case_id = $1 AND kind = 'review'", case_id
    )
    assert units == 100 and granted["authorized_units"] == 100
    assert (
        await bench.pool.fetchval(
            "SELECT count(*) FROM notifications WHERE case_id = $1 AND kind = 'review_extended'",
            case_id,
        )
        == 1
    )
