"""The access audit: one ``access_audit`` row for every call on case data (README, Security).

``AccessAudit`` is a plain ASGI middleware around the whole app. For every
request to a route under ``/cases``, ``/codec`` or ``/workbench`` (reads,
writes, codec calls and the reviewer workbench's pages and forms alike; CORS
preflights and the workbench's stylesheet aside) it writes, once the answer is
known and before it is sent:

- who: the subject and roles of the credential (none when it identified no
  one: a 401), and how it was proved (``token`` or ``jwt``);
- what: the route's name (``read``, ``search``, ``timeline``,
  ``decide_review``, ``decode`` …), the method and the route template (a
  request refused before routing, say a 413, is ``unrouted`` with its path);
- which case: the path's case id; for ``POST /cases`` the case the request
  names; for ``GET /cases`` the ids it returned and the visibility query
  (enums and dates only); for the codec the payload count, the namespace and
  the ``X-Workflow-Id`` header when a caller sends one;
- the outcome: the status code (refusals included: 401, 403, 404, 409, 413,
  422, 5xx), the correlation id, and the database's time.

Never a body, a token or any PHI. Routes add what only they know through
``audit_record(request)``. A read (``GET``, codec ``decode``) whose row cannot
be written is not answered: the caller gets a 503 and the data stays in. A
write's answer still goes out (the action happened, and its own row records
the subject: decisions, claim lines, clinical events, notices), with the
failure logged at error level.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from api.identity import Principal

log = structlog.get_logger("api.audit")

AUDITED_PREFIXES = ("/cases", "/codec", "/workbench", "/fhir", "/cds-services")
#: Under an audited prefix but no case data: the workbench's stylesheet.
UNAUDITED_PREFIXES = ("/workbench/static/",)
#: Routes whose answer discloses case data: no audit row, no answer.
FAIL_CLOSED_ACTIONS = frozenset({"decode", "fhir_inquire"})
MAX_ID = 256
AUDIT_TIMEOUT_S = 5.0
_CASE_IN_PATH = re.compile(r"^/cases/([^/]+)")

_INSERT = """
INSERT INTO access_audit (
    subject, roles, auth, action, method, route, case_id, case_ids, query, payloads,
    namespace, status, correlation_id
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""


@dataclass
class AccessRecord:
    """What one request's audit row says beyond the route; filled in as the request runs."""

    principal: Principal | None = None
    case_id: str | None = None
    case_ids: list[str] | None = None
    query: str | None = None
    payloads: int | None = None
    namespace: str | None = None


def audit_record(request: Any) -> AccessRecord | None:
    """This request's record, or None when the request is not audited (or no app runs it)."""
    state = request.scope.get("state")
    if not isinstance(state, dict):
        return None
    record = state.get("audit")
    return record if isinstance(record, AccessRecord) else None


def clean_id(value: Any) -> str | None:
    """An id as the caller wrote it, bounded and without control characters."""
    if not isinstance(value, str) or not value:
        return None
    return "".join(ch for ch in value[:MAX_ID] if ord(ch) >= 32 and ord(ch) != 127) or None


def _audited(scope: Scope) -> bool:
    return bool(
        scope["type"] == "http"
        and scope["method"] != "OPTIONS"
        and scope["path"].startswith(AUDITED_PREFIXES)
        and not scope["path"].startswith(UNAUDITED_PREFIXES)
    )


def _route(scope: Scope) -> tuple[str, str, str | None]:
    """(template, name, case id) of the route the request went to (the router notes it in
    the scope); a request refused before routing is ``unrouted``, its path as it came."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if route is not None and isinstance(path, str):
        params = scope.get("path_params") or {}
        return path, str(getattr(route, "name", None) or path), clean_id(params.get("case_id"))
    raw = clean_id(scope["path"]) or "/"
    found = _CASE_IN_PATH.match(raw)
    return raw, "unrouted", found.group(1) if found else None


class AccessAudit:
    """Write the ``access_audit`` row of each audited request before its answer goes out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _audited(scope):
            await self.app(scope, receive, send)
            return
        record = AccessRecord()
        state = scope.setdefault("state", {})
        state["audit"] = record
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        finally:
            start = next((m for m in held if m["type"] == "http.response.start"), None)
            status = start["status"] if start else 500
            template, action, case_id = _route(scope)
            record.case_id = case_id or record.case_id
            written = await self._write(scope, template, action, record, status)
        if not written and (scope["method"] == "GET" or action in FAIL_CLOSED_ACTIONS):
            await _unavailable(send, state.get("correlation_id"))
            return
        for message in held:
            await send(message)

    async def _write(
        self, scope: Scope, template: str, action: str, record: AccessRecord, status: int
    ) -> bool:
        app = scope.get("app")
        pool = getattr(getattr(app, "state", None), "pool", None)
        who = record.principal
        correlation = scope.get("state", {}).get("correlation_id")
        if pool is None:
            log.error("access audit not written: no database", action=action, status=status)
            return False
        try:
            await pool.execute(
                _INSERT,
                who.subject if who else None,
                who.role_names if who else [],
                who.via if who else None,
                action,
                scope["method"],
                template,
                record.case_id,
                record.case_ids,
                record.query,
                record.payloads,
                record.namespace,
                status,
                correlation,
                timeout=AUDIT_TIMEOUT_S,
            )
        except Exception as exc:  # the database, a timeout: the caller is told, the log says why
            log.error(
                "access audit not written",
                action=action,
                status=status,
                error=type(exc).__name__,
                correlation_id=correlation,
            )
            return False
        return True


async def _unavailable(send: Send, correlation_id: str | None) -> None:
    answer = {"error": "unavailable", "message": "the access could not be audited; try again"}
    if correlation_id:
        answer["correlation_id"] = correlation_id
    body = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if correlation_id:
        headers.append((b"x-correlation-id", correlation_id.encode()))
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
