"""No PHI in logs: keyed fields at any depth and keyed text are redacted, nothing else."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from datetime import UTC, date, datetime

import pytest
import structlog
from pydantic import ValidationError

from domain.request import Member, PARequest
from infra.logging import REDACTED, PhiFilter, redact, redact_phi, redact_text

FIRST, LAST, MEMBER_ID, DOB = "Josephine", "Quillfeather", "M-77812345", date(1961, 4, 23)
PHI_STRINGS = (FIRST, LAST, MEMBER_ID, "1961-04-23", "1961, 4, 23")


def _request() -> PARequest:
    return PARequest(
        request_id="REQ-1",
        received_at=datetime(2025, 3, 1, 9, tzinfo=UTC),
        line_of_business="commercial",
        member=Member(member_id=MEMBER_ID, first_name=FIRST, last_name=LAST, date_of_birth=DOB),
        service={"hcpcs": "J9039", "requested_start": date(2025, 3, 3)},
    )


def _assert_no_phi(rendered: str) -> None:
    for phi in PHI_STRINGS:
        assert phi not in rendered, f"{phi!r} leaked into {rendered!r}"


def _process(**event: object) -> dict:
    return redact_phi(None, "info", {"event": "e", **event})


def test_top_level_phi_keys_are_redacted_and_others_kept() -> None:
    out = _process(member_id=MEMBER_ID, first_name=FIRST, dob=DOB, case="pa-REQ-1", cycles=2)

    assert out == {
        "event": "e",
        "member_id": REDACTED,
        "first_name": REDACTED,
        "dob": REDACTED,
        "case": "pa-REQ-1",
        "cycles": 2,
    }


@pytest.mark.parametrize(
    "key", ["memberId", "FirstName", "LAST_NAME", "dateOfBirth", "birth-date", "DOB", "Name"]
)
def test_phi_keys_match_in_any_case_or_spelling(key: str) -> None:
    assert _process(**{key: "Quillfeather"})[key] == REDACTED


def test_nested_dicts_and_lists_are_redacted_at_any_depth() -> None:
    event = {"batch": [{"claim": {"member": {"member_id": MEMBER_ID}}}, ({"last_name": LAST},)]}

    out = _process(**event)

    assert out["batch"] == [{"claim": {"member": REDACTED}}, [{"last_name": REDACTED}]]


def test_pydantic_models_are_redacted_field_by_field() -> None:
    out = _process(request=_request())

    assert out["request"]["member"] == REDACTED
    assert out["request"]["request_id"] == "REQ-1"
    assert out["request"]["service"]["requested_start"] == date(2025, 3, 3)
    _assert_no_phi(repr(out))


def test_a_member_model_under_a_neutral_key_loses_its_phi_fields() -> None:
    out = _process(subject=Member(member_id=MEMBER_ID, first_name=FIRST, state="OH"))

    assert out["subject"] == {
        "member_id": REDACTED,
        "first_name": REDACTED,
        "last_name": REDACTED,
        "date_of_birth": REDACTED,
        "state": "OH",
    }


def test_dataclasses_are_redacted_field_by_field() -> None:
    @dataclasses.dataclass
    class Row:
        member_id: str
        units: int

    assert _process(row=Row(MEMBER_ID, 28))["row"] == {"member_id": REDACTED, "units": 28}


def test_normal_dates_and_member_ref_are_not_mangled() -> None:
    out = _process(
        date_of_service=date(2025, 3, 4),
        period_end="2025-06-30",
        member_ref="m_0123456789abcdef01234567",
        event="period ends 2025-06-30; cycle 2 starts 04/01/2025",
    )

    assert out["date_of_service"] == date(2025, 3, 4)
    assert out["period_end"] == "2025-06-30"
    assert out["member_ref"] == "m_0123456789abcdef01234567"
    assert out["event"] == "period ends 2025-06-30; cycle 2 starts 04/01/2025"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("member_id=M-77812345 refused", f"member_id={REDACTED} refused"),
        ('{"first_name": "Josephine", "units": 28}', f'{{"first_name": {REDACTED}, "units": 28}}'),
        ("dob: 04/23/1961 (pediatric)", f"dob: {REDACTED} (pediatric)"),
        ("DOB 1961-04-23", f"DOB {REDACTED}"),
        ("Date of birth: 1961-04-23", f"Date of birth: {REDACTED}"),
        (
            "Member(member_id='M-77812345', date_of_birth=datetime.date(1961, 4, 23), state='OH')",
            f"Member(member_id={REDACTED}, date_of_birth={REDACTED}, state='OH')",
        ),
        ("date_of_service=2025-03-04", "date_of_service=2025-03-04"),
        ("name=evaluate_request", "name=evaluate_request"),
    ],
)
def test_keyed_text_loses_only_the_phi_value(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_pydantic_validation_errors_do_not_echo_input() -> None:
    with pytest.raises(ValidationError) as info:
        Member.model_validate({"member_id": MEMBER_ID, "date_of_birth": "1961-04-23x"})

    _assert_no_phi(redact_text(str(info.value)))
    assert "date_of_birth" in redact_text(str(info.value))


def test_input_is_not_mutated() -> None:
    event = {"member": {"member_id": MEMBER_ID}, "items": [{"first_name": FIRST}]}

    redact(event)

    assert event == {"member": {"member_id": MEMBER_ID}, "items": [{"first_name": FIRST}]}


def test_structlog_json_output_holds_no_phi_even_in_exceptions() -> None:
    out = io.StringIO()
    structlog.configure(
        processors=[
            structlog.processors.format_exc_info,
            redact_phi,
            structlog.processors.JSONRenderer(default=str),
        ],
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    try:
        log = structlog.get_logger("t")
        try:
            raise ValueError(f"bad member_id={MEMBER_ID}")
        except ValueError:
            log.exception("request refused", request=_request(), case="pa-REQ-1", first_name=FIRST)
    finally:
        structlog.reset_defaults()

    rendered = out.getvalue()
    line = json.loads(rendered)
    _assert_no_phi(rendered)
    assert line["case"] == "pa-REQ-1"
    assert "ValueError: bad member_id=[redacted]" in line["exception"]


def test_configure_logging_redacts_events_and_their_exceptions(capsys) -> None:
    from infra.logging import configure_logging

    root = logging.getLogger()
    handlers_before = {h: list(h.filters) for h in root.handlers}
    configure_logging("INFO", "json")
    try:
        log = structlog.get_logger("t")
        try:
            raise ValueError(f"bad date_of_birth={DOB.isoformat()}")
        except ValueError:
            log.exception("refused", member={"member_id": MEMBER_ID}, case="pa-REQ-1")
    finally:
        structlog.reset_defaults()
        for handler, filters in handlers_before.items():
            handler.filters[:] = filters

    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    _assert_no_phi(json.dumps(line))
    assert line["member"] == REDACTED
    assert line["case"] == "pa-REQ-1"
    assert "ValueError: bad date_of_birth=[redacted]" in line["exception"]


def test_stdlib_records_are_redacted_by_the_filter() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PhiFilter())
    logger = logging.getLogger("test.phi.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError(f"last_name={LAST}")
        except RuntimeError:
            logger.exception("activity failed for %s", f"member_id={MEMBER_ID}")
    finally:
        logger.removeHandler(handler)

    rendered = stream.getvalue()
    _assert_no_phi(rendered)
    assert "activity failed for member_id=[redacted]" in rendered
    assert "RuntimeError: last_name=[redacted]" in rendered


def test_very_deep_structures_are_cut_off_not_crashed() -> None:
    value: dict = {"member_id": MEMBER_ID}
    for _ in range(100):
        value = {"next": value}

    _assert_no_phi(repr(redact(value)))
