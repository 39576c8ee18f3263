"""A case's id: ``pa-<request_id>`` (DESIGN.md, How data flows, step 2).

The one place the id is made. It is the workflow id of the case, so the same
request id always names the same case (idempotent intake).
"""

from __future__ import annotations

CASE_PREFIX = "pa-"


def case_id(request_id: str) -> str:
    """The case of a request: ``REQ-1001`` -> ``pa-REQ-1001``."""
    return f"{CASE_PREFIX}{request_id}"


def as_case_id(text: str) -> str:
    """A case id or a request id, as typed, as the case id (``REQ-1`` or ``pa-REQ-1``)."""
    text = text.strip()
    return text if text.startswith(CASE_PREFIX) else case_id(text)
