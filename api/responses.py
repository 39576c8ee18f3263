"""What each route says it may answer, for the OpenAPI document (CONTRACT.md, Strict types).

Every status a route can answer is documented with its body, so that a client
(or schemathesis) never meets an undocumented one. Where each comes from:

- 400: the body is not JSON at all (api/errors.py); routes that read a body;
- 401/403: api/auth.py, on every route behind a token (401 carries
  ``WWW-Authenticate: Bearer``, RFC 9110, 11.6.1); 503 there too when the
  identity provider's keys cannot be fetched (api/identity.py);
- 404: a case id that is not a case (api/deps.py, cases/client.py);
- 409: the case refused the action, or has ended (cases/client.py);
- 413: api/limits.py, before any route runs: every route;
- 422: a body or query parameter that is not valid, field by field; also
  api/limits.py's unstorable strings in any JSON body a route reads;
- 500: a bug; the answer carries the correlation id of the log line;
- 502/503: Temporal refused the call / is unreachable (api/errors.py); 503
  also for a read whose access-audit row cannot be written (api/audit.py);
  504: the case did not answer an update or query in time, or a submission found no
  case after waiting for its first decision (cases/client.py).

The sets below name them per kind of route; a route lists its set in its decorator.
"""

from __future__ import annotations

from typing import Any

from api.errors import ErrorBody

DESCRIPTIONS = {
    400: "the body is not JSON (not UTF-8, or not JSON syntax)",
    401: "no bearer token, or an unknown one",
    403: "the token's role may not do this",
    404: "no such case",
    409: "the case cannot take this now: `message` says why, `case_status` is the case's status",
    413: "the request body is larger than the limit (256 KiB; 8 MiB under /codec/)",
    422: "invalid input: `errors` names each field (dotted path) and what is wrong with it",
    500: "an unexpected error: `correlation_id` finds its log line",
    502: "Temporal refused the call, or the case could not answer",
    503: "Temporal, the identity provider or the access audit is unavailable; try again",
    504: "the case did not answer in time (is a worker running?)",
}

_CHALLENGE = {
    "WWW-Authenticate": {
        "description": "`Bearer` (RFC 9110, 11.6.1)",
        "schema": {"type": "string", "enum": ["Bearer"]},
    }
}

#: What every route may answer, whatever it does (api/limits.py, api/errors.py).
ANY_ROUTE = (413, 500)
#: Behind a bearer token (503: the identity provider's keys cannot be fetched).
AUTHED = (401, 403, 503)
#: Reads a JSON body.
BODY = (400, 422)
#: Talks to Temporal.
TEMPORAL = (502, 503)

SUBMIT = (*ANY_ROUTE, *AUTHED, *BODY, *TEMPORAL, 504)
SEARCH = (*ANY_ROUTE, *AUTHED, 422, *TEMPORAL)
READ_CASE = (*ANY_ROUTE, *AUTHED, 404, *TEMPORAL, 504)
UPDATE_CASE = (*ANY_ROUTE, *AUTHED, *BODY, 404, 409, *TEMPORAL, 504)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code with the error body and its description."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted(set(codes)):
        entry: dict[str, Any] = {"model": ErrorBody, "description": DESCRIPTIONS[code]}
        if code == 401:
            entry["headers"] = _CHALLENGE
        out[code] = entry
    return out
