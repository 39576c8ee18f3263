"""`priorauth dev --demo` fills a real dev server with a working queue, and the Temporal UI
(headless Chromium) finds its cases through a search-attribute query."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import quote

import pytest_asyncio

from tests.browser import chromium
from tests.e2e.conftest import e2e_settings

EXPECTED = {
    "pa-DEMO-1001": "active",
    "pa-DEMO-1006": "renewal_window",
    "pa-DEMO-1007": "active",
    "pa-DEMO-1008": "expired",
    "pa-DEMO-1009": "completed",
    "pa-DEMO-1010": "pended",
    "pa-DEMO-1011": "in_review",
    "pa-DEMO-1012": "in_review",
    "pa-DEMO-1013": "denied",
    "pa-DEMO-1014": "in_review",
    "pa-DEMO-1015": "not_applicable",
    "pa-DEMO-1016": "withdrawn",
    "pa-DEMO-1017": "discontinued",
}


@pytest_asyncio.fixture
async def ui_server():
    """A dev server of its own, with the UI, on free ports."""
    from infra.devserver import DevServer, free_port

    server = DevServer(port=free_port(), ui_port=free_port())
    await server.start()
    yield server
    server.stop()


def _page_text_with(url: str, needle: str, within_s: float = 45.0) -> str:
    """Load ``url`` and wait until ``needle`` is on the page (the UI renders client-side)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = chromium()
    try:
        browser.get(url)
        with contextlib.suppress(TimeoutException):
            WebDriverWait(browser, within_s, poll_frequency=0.5).until(
                lambda b: needle in b.find_element(By.TAG_NAME, "body").text
            )
        return browser.find_element(By.TAG_NAME, "body").text
    finally:
        browser.quit()


async def test_the_demo_queue_reaches_every_status_and_the_ui_finds_it(
    ui_server, db_pool, task_queue
):
    import worker
    from commands.demo import load_demo
    from infra.temporal import connect

    client = await connect(ui_server.address)
    settings = e2e_settings(task_queue)
    async with worker.build_worker(client, db_pool, settings):
        first = await load_demo(client, db_pool, settings, quiet=True)
        assert all(r.created for r in first), [r for r in first if not r.created]
        statuses = {r.case_id: r.status for r in first}
        for case_id, status in EXPECTED.items():
            assert statuses[case_id] == status, (case_id, statuses[case_id])
        assert {r.status for r in first if r.status != r.expected} == set(), first
        again = await load_demo(client, db_pool, settings, quiet=True)
        assert not any(r.created for r in again)

        query = 'AuthStatus="in_review" AND AuthEscalated=true'
        for _ in range(50):
            escalated = [w.id async for w in client.list_workflows(query)]
            if escalated:
                break
            await asyncio.sleep(0.2)
        assert escalated == ["pa-DEMO-1012"]
        renewed = [w.id async for w in client.list_workflows("AuthRenewalsUsed = 1")]
        assert "pa-DEMO-1007" in renewed

    url = f"http://127.0.0.1:{ui_server.ui_port}/namespaces/default/workflows?query=" + quote(
        'AuthStatus="renewal_window"'
    )
    text = await asyncio.to_thread(_page_text_with, url, "pa-DEMO-1006")
    assert "pa-DEMO-1006" in text
    assert "pa-DEMO-1001" not in text  # active, not in the window: the query filtered
