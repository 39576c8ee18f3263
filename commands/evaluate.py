"""`priorauth evaluate` and `priorauth schema`: the policy engine from the command line.

``evaluate FILE|-`` decides one request (CONTRACT.md) and prints the decision
JSON; ``schema request|decision|claim|clinical-event|scenario`` prints a JSON
Schema. A malformed request exits 2 with one line per bad field on stderr,
as does a request for a drug no policy covers (``service.hcpcs``,
``service.ndc``) or one the chosen ``--policy`` does not cover.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Literal

from pydantic import BaseModel, ValidationError

from domain.claim import ClaimLine
from domain.clinical_event import ClinicalEventBody
from domain.decision import Decision
from domain.engine import decide
from domain.policy import load_policy
from domain.policy_registry import default_registry
from domain.request import PARequest
from domain.scenario import Scenario

SCHEMAS: dict[str, type[BaseModel]] = {
    "request": PARequest,
    "decision": Decision,
    "claim": ClaimLine,
    "clinical-event": ClinicalEventBody,
    "scenario": Scenario,
}

EXIT_BAD_INPUT = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evaluate`` and ``schema``."""
    evaluate = sub.add_parser(
        "evaluate",
        help="decide a prior-authorization request and print the decision JSON",
        description="Decide a request (CONTRACT.md) against the policy and print the decision.",
    )
    evaluate.add_argument("file", metavar="FILE", help="request JSON file, or - for stdin")
    evaluate.add_argument(
        "--as-of",
        type=_iso_date,
        default=None,
        metavar="DATE",
        help="evaluation date (default: the day the request was received)",
    )
    evaluate.add_argument(
        "--prior-cycles",
        type=int,
        default=0,
        metavar="N",
        help="the system's own record of the member's earlier cycles (Section I)",
    )
    evaluate.add_argument(
        "--policy",
        default=None,
        help="policy file or id (default: the policy of the request's drug, service.hcpcs)",
    )
    evaluate.add_argument(
        "--no-trace", action="store_true", help="leave the criteria tree out of the output"
    )
    evaluate.set_defaults(func=run_evaluate)

    schema = sub.add_parser("schema", help="print the JSON Schema of a public format")
    schema.add_argument("kind", choices=sorted(SCHEMAS), help="which format")
    schema.set_defaults(func=run_schema)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def error_lines(exc: ValidationError) -> list[str]:
    """One line per bad field: ``dotted.path: reason``."""
    lines = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "request"
        message = error["msg"]
        if error["type"] == "json_invalid":
            message = f"Invalid JSON: {error.get('ctx', {}).get('error', message)}"
        lines.append(f"{path}: {message}")
    return lines


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def run_evaluate(args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}: cannot read: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        request = PARequest.model_validate_json(text)
    except ValidationError as exc:
        for line in error_lines(exc):
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        # The policy of the request's drug (the registry of domain/policies/), unless named.
        if args.policy is None:
            policy = default_registry().for_drug(
                request.service.hcpcs or "", request.received_at.date()
            )
        else:
            policy = load_policy(args.policy)
    except (OSError, ValueError, LookupError) as exc:
        print(f"policy: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if request.service.hcpcs not in policy.billing.hcpcs:
        print(
            f"service.hcpcs: policy {policy.id} ({', '.join(policy.billing.hcpcs)}) "
            "does not cover this drug",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    as_of = args.as_of or request.received_at.date()
    decision = decide(request, policy, as_of=as_of, prior_cycles=args.prior_cycles)
    if args.no_trace:
        decision = decision.model_copy(update={"trace": None})
    print(decision.model_dump_json(indent=2))
    return 0


def run_schema(args: argparse.Namespace) -> int:
    model = SCHEMAS[args.kind]
    mode: Literal["validation", "serialization"] = (
        "serialization" if args.kind == "decision" else "validation"
    )
    print(json.dumps(model.model_json_schema(mode=mode), indent=2, ensure_ascii=False))
    return 0
