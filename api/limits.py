"""Limits on request bodies, enforced before any route runs (issue #7, "bad input refused").

``BodyLimits`` is a plain ASGI middleware:

- a body larger than ``max_bytes`` (by its ``Content-Length``, or counted as it
  arrives when there is none) is refused with 413 before it is read whole, so
  an oversized request never reaches validation, Temporal (whose payloads
  have a size limit of their own) or PostgreSQL;
- a JSON body of a ``POST``, ``PUT`` or ``PATCH`` (the methods whose bodies
  routes read; others' are never parsed) is refused with 422 when

  - it nests deeper than ``max_depth`` (32) arrays and objects, found before
    anything parses it: no public format comes near that depth, and deep
    nesting only costs the parsers (pydantic, the protobuf JSON of the codec
    server) stack and time;
  - it holds a string that can never be stored or sent on, naming the field:
    NUL characters (PostgreSQL ``text`` and ``jsonb`` reject them, so an
    activity writing one would fail on every retry) and unpaired UTF-16
    surrogates (``\\ud800``: valid JSON, but not encodable as UTF-8, so the
    payload to Temporal cannot be serialized).

Errors use the API's one shape (api/errors.py): ``{"error", "message",
"errors": [{"field", "message"}]}``. Bodies that are not JSON pass through
unchanged: the routes answer them with their own 400.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A request, a claim line or an event is a few KiB; 256 KiB leaves ample room.
MAX_BODY_BYTES = 256 * 1024
#: The codec server decodes pages of workflow history for the Temporal UI.
PREFIX_LIMITS = {"/codec/": 8 * 1024 * 1024}

#: Methods whose bodies the routes read; other methods' bodies are never parsed.
CONTENT_METHODS = frozenset({"POST", "PUT", "PATCH"})
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "must not contain NUL characters or unpaired surrogates"
#: The deepest nesting of arrays and objects a JSON body may have (a request is 3 deep).
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` in ``body`` (strings skipped),
    found without parsing it."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_BRACKETS.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def unstorable_fields(data: Any) -> list[str]:
    """Dotted paths (``member.first_name``, ``codes[0]``) of unstorable strings in ``data``."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    found.append(path or "body")
                    continue
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return sorted(set(found))


class BodyLimits:
    """Refuse oversized bodies (413) and unstorable strings in JSON bodies (422)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        prefix_limits: dict[str, int] | None = None,
        max_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix_limits = PREFIX_LIMITS if prefix_limits is None else prefix_limits
        self.max_depth = max_depth

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.prefix_limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = False
            if too_large:
                await _too_large(send, limit)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        reads_body = scope.get("method", "GET") in CONTENT_METHODS
        if body and reads_body and _is_json(headers.get(b"content-type", b"")):
            if too_deep(body, self.max_depth):
                await _refuse(
                    send,
                    422,
                    {
                        "error": "invalid",
                        "message": "the input is not valid",
                        "errors": [
                            {
                                "field": "body",
                                "message": f"JSON nested deeper than {self.max_depth} levels",
                            }
                        ],
                    },
                )
                return
            fields = _unstorable_in(body)
            if fields:
                await _refuse(
                    send,
                    422,
                    {
                        "error": "invalid",
                        "message": "the input is not valid",
                        "errors": [{"field": f, "message": UNSTORABLE_MESSAGE} for f in fields],
                    },
                )
                return
        await self.app(scope, _replay(body, receive), send)


def _is_json(content_type: bytes) -> bool:
    kind = content_type.split(b";")[0].strip().lower()
    return not kind or kind == b"application/json" or kind.endswith(b"+json")


def _unstorable_in(body: bytes) -> list[str]:
    if b"\\u" not in body and b"\x00" not in body:
        return []  # raw UTF-8 cannot hold a surrogate; NUL in JSON text is always escaped
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return []  # not JSON: the route refuses it on its own
    return unstorable_fields(data)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(
        send,
        413,
        {"error": "too_large", "message": f"the request body is larger than {limit} bytes"},
    )


async def _refuse(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
