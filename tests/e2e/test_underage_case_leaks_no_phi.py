"""An underage member's case, through the whole stack: the age criterion is not met, and
no name, member id or date of birth shows in any reason, notice, log line or case read.

The real worker and notifier run (log channel); every log line of this process is
captured as the JSON renderer would write it (structlog's processors, redaction
included, and the standard-library loggers of temporalio and uvicorn).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from infra.logging import PAYLOAD_LOGGERS, PhiFilter, cap_payload_loggers, redact_phi
from tests.api_tokens import auth
from tests.e2e.conftest import make_request

FIRST, LAST, DOB = "Josephine", "Quillfeather", "2016-01-01"


def _phi(request: dict) -> dict[str, str]:
    return {
        "first name": FIRST,
        "last name": LAST,
        "member id": request["member"]["member_id"],
        "date of birth": DOB,
    }


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line this process writes while the test runs (rendered, redacted)."""
    lines: list[str] = []

    def keep(_logger, _method, event_dict):
        lines.append(json.dumps(event_dict, default=str))
        raise structlog.DropEvent

    saved = structlog.get_config()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            redact_phi,
            keep,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    handler.addFilter(PhiFilter())
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *PAYLOAD_LOGGERS)}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # LOG_LEVEL=DEBUG, as configure_logging would apply it
    cap_payload_loggers()
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        structlog.configure(**saved)


def _assert_no_phi(where: str, text: str, phi: dict[str, str]) -> None:
    leaked = [what for what, value in phi.items() if value in text]
    assert leaked == [], f"{leaked} in {where}: {text[:2000]}"


async def test_an_underage_case_shows_its_age_and_no_member_value_anywhere(stack, log_lines):
    # Maintenance is an adult use only: a 10-year-old's request is not met on age.
    request = make_request(
        therapy__setting="maintenance",
        diagnosis__relapsed_or_refractory=False,
        diagnosis__complete_remission="first",
    )
    request["member"].update(
        {"member_id": f"M-77812345-{request['request_id']}", "first_name": FIRST,
         "last_name": LAST, "date_of_birth": DOB}
    )  # fmt: skip
    phi = _phi(request)
    case_id = (await stack.submit(request))["case_id"]
    assert await stack.wait_status(case_id, "in_review") == "in_review"
    deny = {"determination": "deny", "rationale": "under 18"}  # the reviewer: the credential
    r = await stack.http.post(f"/cases/{case_id}/review", json=deny, headers=auth("reviewer"))
    assert r.status_code == 200, r.text
    assert await stack.wait_status(case_id, "denied") == "denied"

    case = await stack.case(case_id)
    listing = await stack.http.get("/cases", headers=auth("read-only"))
    outbox = await stack.pool.fetch(
        "SELECT kind, payload::text AS payload, text FROM notifications WHERE case_id = $1",
        case_id,
    )

    # The age criterion is not met, and says so by age.
    reasons = [x["text"] for d in case["decisions"] for x in d["reasons"]]
    assert any("not met (age 10, below 18)" in t for t in reasons), reasons
    kinds = {row["kind"] for row in outbox}
    assert {"review_assignment", "denial"} <= kinds
    denial = next(row["text"] for row in outbox if row["kind"] == "denial")
    assert "age 10, below 18" in denial
    # ... and no member value anywhere it travels.
    _assert_no_phi("GET /cases/{id}", json.dumps(case), phi)
    _assert_no_phi("GET /cases", listing.text, phi)
    for row in outbox:  # what the log channel and a webhook deliver
        _assert_no_phi(f"notice {row['kind']}", row["text"] + row["payload"], phi)
    assert log_lines, "no log line was captured: the check would be vacuous"
    assert any('"notice"' in line and case_id in line for line in log_lines)
    _assert_no_phi("the logs", "\n".join(log_lines), phi)
