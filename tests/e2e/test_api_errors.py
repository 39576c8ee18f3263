"""Whatever goes wrong inside, the caller gets JSON with a correlation id, never a traceback."""

from __future__ import annotations

import httpx

from api.app import create_app
from tests.api_tokens import auth
from tests.e2e.conftest import make_request


class _BrokenClient:
    """A Temporal client whose every call fails unexpectedly."""

    def get_workflow_handle(self, *args, **kwargs):
        raise RuntimeError("boom: internal detail that must not leak")


async def test_an_unexpected_error_is_500_with_a_correlation_id_and_no_traceback(
    settings, runtime_pool
):
    app = create_app(settings, client=_BrokenClient(), pool=runtime_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        r = await http.get("/cases/pa-ANY", headers={**auth("reviewer"), "X-Correlation-ID": "c-1"})
    assert r.status_code == 500
    assert r.json() == {
        "error": "internal",
        "message": "internal error; quote the correlation id",
        "correlation_id": "c-1",
    }
    assert r.headers["x-correlation-id"] == "c-1"
    assert "boom" not in r.text and "Traceback" not in r.text


async def test_every_answer_carries_a_correlation_id(api_only):
    r = await api_only.get("/healthz")
    assert len(r.headers["x-correlation-id"]) == 32


async def test_an_unknown_route_and_a_wrong_method_keep_the_error_shape(api_only):
    r = await api_only.get("/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = await api_only.delete("/cases", headers=auth("admin"))
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


async def test_temporal_being_down_is_503_not_a_traceback(settings, runtime_pool):
    from infra.devserver import free_port
    from infra.temporal import connect

    port = free_port()
    from infra.devserver import DevServer

    server = DevServer(port=port, ui_port=None)
    await server.start()
    client = await connect(server.address)
    server.stop()
    app = create_app(settings, client=client, pool=runtime_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        r = await http.get("/cases", headers=auth("reviewer"))
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "unavailable" and r.json()["correlation_id"]
        submitted = await http.post("/cases", json=make_request(), headers=auth("intake"))
    assert submitted.status_code == 503, submitted.text
    assert submitted.json()["error"] == "unavailable" and "Traceback" not in submitted.text
