"""A small synchronous client of the HTTP API, used by the ``priorauth`` CLI.

Base URL from ``PRIORAUTH_API_URL`` (default ``http://127.0.0.1:8000``), token
from ``PRIORAUTH_TOKEN``. Every answer other than 2xx becomes an
``ApiRefusal`` carrying the status and the API's reason; a connection
problem becomes an ``ApiUnreachable``. Neither carries a traceback to users.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from domain.case_id import as_case_id

DEFAULT_URL = "http://127.0.0.1:8000"


class ApiUnreachable(Exception):
    """The API could not be reached (or did not answer in time)."""


@dataclass
class ApiRefusal(Exception):
    """The API answered with an error status."""

    status: int
    error: str
    message: str
    errors: list[dict[str, str]] = field(default_factory=list)
    correlation_id: str | None = None

    def __str__(self) -> str:
        text = f"{self.status} {self.error}: {_printable(self.message)}"
        if self.errors:
            text += (
                " ("
                + "; ".join(
                    f"{_printable(e['field'])}: {_printable(e['message'])}" for e in self.errors
                )
                + ")"
            )
        if self.correlation_id:
            text += f" [correlation id {self.correlation_id}]"
        return text


def _printable(text: str) -> str:
    """Escape control characters so an echoed field name cannot break the line or the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def case_path(case: str) -> str:
    """``REQ-1`` or ``pa-REQ-1`` -> ``/cases/pa-REQ-1`` (URL-quoted)."""
    return f"/cases/{quote(as_case_id(case), safe='')}"


class ApiClient:
    """The API as plain method calls returning decoded JSON (or text for SVG)."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base_url = base_url or os.environ.get("PRIORAUTH_API_URL") or DEFAULT_URL
        token = token if token is not None else os.environ.get("PRIORAUTH_TOKEN", "")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing -----------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiUnreachable(f"the API at {self.base_url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise ApiUnreachable(
                f"cannot reach the API at {self.base_url} ({type(exc).__name__}); "
                "is `priorauth dev` running, and is PRIORAUTH_API_URL right?"
            ) from exc
        if response.status_code >= 400:
            raise _refusal(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.request(method, path, **kwargs).json()
        return body

    # --- operations ---------------------------------------------------------------

    def submit(self, request: dict[str, Any]) -> dict[str, Any]:
        response = self.request("POST", "/cases", json=request)
        body: dict[str, Any] = response.json()
        body.setdefault("created", response.status_code == 201)
        return body

    def provide_info(self, case: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/info", json=body)

    def review(self, case: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/review", json=body)

    def appeal(self, case: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/appeal", json=body)

    def withdraw(self, case: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/withdraw", json=body)

    def renew(self, case: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/renewals", json=body)

    def extend_review(self, case: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/review/extension", json=body)

    def extend(self, case: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/extensions", json=body)

    def claim(self, case: str, line: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/claims", json=line)

    def event(self, case: str, event: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"{case_path(case)}/events", json=event)

    def case(self, case: str) -> dict[str, Any]:
        return self._json("GET", case_path(case))

    def cases(self, **filters: Any) -> dict[str, Any]:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._json("GET", "/cases", params=params)

    def timeline_svg(self, case: str) -> str:
        return self.request("GET", f"{case_path(case)}/timeline.svg").text


def _refusal(response: httpx.Response) -> ApiRefusal:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiRefusal(
        status=response.status_code,
        error=str(body.get("error") or response.reason_phrase or "error"),
        message=str(body.get("message") or response.text[:200] or "no reason given"),
        errors=[e for e in body.get("errors", []) if isinstance(e, dict)],
        correlation_id=body.get("correlation_id"),
    )
