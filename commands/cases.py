"""`priorauth` case subcommands: the HTTP API from a terminal or a script.

submit, info, review, appeal, withdraw, renew, extend, claim, event, status,
list and load (bulk, from JSON Lines, with a progress bar). They talk to the
API at ``PRIORAUTH_API_URL`` (default http://127.0.0.1:8000) with the token in
``PRIORAUTH_TOKEN``; ``--json`` prints the API's answer as JSON instead of a
table.

Exit codes: 0 done; 1 the API refused (unknown case, not now, not allowed:
401, 403, 404, 409, …); 2 bad input: a file or argument this command cannot
use, or one the API refused as invalid (422, each bad field named: a request
for a drug no policy covers, a value of the wrong type, an event dated outside
the case's days) — the same code ``priorauth evaluate`` and ``priorauth
simulate`` give a bad file; 3 the API could not be reached or failed (5xx).
``load`` exits 2 when any line was bad input, else 1 when any was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.client import ApiClient, ApiRefusal, ApiUnreachable

if TYPE_CHECKING:  # rich is imported when a command prints
    from rich.console import Console
    from rich.table import Table

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


class UsageError(Exception):
    """A problem with the command line or an input file (exit 2)."""


# --- plumbing -----------------------------------------------------------------------


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _client(args: argparse.Namespace) -> ApiClient:
    return ApiClient(base_url=args.api_url, token=args.token)


def _run(
    name: str, fn: Callable[[argparse.Namespace, ApiClient], int]
) -> Callable[[argparse.Namespace], int]:
    """Wrap a subcommand: one readable line on any failure, never a traceback."""

    def command(args: argparse.Namespace) -> int:
        try:
            with _client(args) as api:
                return fn(args, api)
        except ApiRefusal as exc:
            print(f"priorauth {name}: {exc}", file=sys.stderr)
            return exit_code(exc)
        except ApiUnreachable as exc:
            print(f"priorauth {name}: {exc}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        except UsageError as exc:
            print(f"priorauth {name}: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return command


def exit_code(refusal: ApiRefusal) -> int:
    """3 for a failed API, 2 for input it found invalid (422), 1 for any other refusal."""
    if refusal.status >= 500:
        return EXIT_UNAVAILABLE
    return EXIT_USAGE if refusal.status == 422 else EXIT_REFUSED


def read_json(path: str) -> Any:
    """A JSON document from a file, or from stdin when ``path`` is ``-``."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None


def _json_object(path: str) -> dict[str, Any]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold one JSON object")
    return data


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """``["diagnosis.mrd_percent=0.4", "x=abc"]`` -> {path: value}; values parsed as JSON."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set needs PATH=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _facts(args: argparse.Namespace) -> dict[str, Any]:
    facts: dict[str, Any] = _json_object(args.facts) if getattr(args, "facts", None) else {}
    facts.update(parse_assignments(getattr(args, "set", None)))
    return facts


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _kv_table(title: str, rows: dict[str, Any]) -> Table:
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list | dict):
            value = json.dumps(value, default=str)
        table.add_row(key, str(value))
    return table


def _rows_table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A table whose first column (the row's id: case, claim, cycle) is never wrapped or cut:
    on a narrow terminal the other columns give way, folding their text onto more lines."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for index, col in enumerate(columns):
        if index == 0:
            table.add_column(col, no_wrap=True)
        else:
            table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    return table


def _when(timestamp: str | None) -> str:
    """``2026-11-27T18:56:54.002883Z`` -> ``2026-11-27 18:56:54Z`` for tables."""
    if not timestamp:
        return ""
    day, _, clock = timestamp.partition("T")
    return f"{day} {clock[:8]}Z" if clock else day


def _show_outcome(args: argparse.Namespace, title: str, result: dict[str, Any]) -> int:
    if args.json:
        _print_json(result)
    else:
        _console().print(_kv_table(title, result))
    return EXIT_OK


# --- subcommands --------------------------------------------------------------------


def _submit(args: argparse.Namespace, api: ApiClient) -> int:
    result = api.submit(_json_object(args.file))
    if args.json:
        _print_json(result)
    else:
        verb = "started" if result.get("created") else "already exists"
        print(f"{result['case_id']}  {verb}  status={result['status']}")
    return EXIT_OK


def _info(args: argparse.Namespace, api: ApiClient) -> int:
    facts = _facts(args)
    if not facts:
        raise UsageError("give the facts with --facts FILE.json and/or --set PATH=VALUE")
    result = api.provide_info(args.case, {"facts": facts})
    return _show_outcome(args, f"{args.case}: information", result)


def _review(args: argparse.Namespace, api: ApiClient) -> int:
    body = {
        "determination": args.determination,
        "rationale": args.rationale,
        "track": args.track,
        "period_end": args.period_end,
        "authorized_units": args.units,
        "missing_facts": args.fact or None,
    }
    result = api.review(args.case, {k: v for k, v in body.items() if v is not None})
    return _show_outcome(args, f"{args.case}: review", result)


def _appeal(args: argparse.Namespace, api: ApiClient) -> int:
    result = api.appeal(args.case, {"reason": args.reason})
    return _show_outcome(args, f"{args.case}: appeal", result)


def _withdraw(args: argparse.Namespace, api: ApiClient) -> int:
    result = api.withdraw(args.case, {"reason": args.reason})
    return _show_outcome(args, f"{args.case}: withdrawal", result)


def _renew(args: argparse.Namespace, api: ApiClient) -> int:
    result = api.renew(args.case, {"facts": _facts(args)})
    return _show_outcome(args, f"{args.case}: renewal", result)


def _extend_review(args: argparse.Namespace, api: ApiClient) -> int:
    result = api.extend_review(args.case, {"days": args.days, "reason": args.reason})
    return _show_outcome(args, f"{args.case}: review clock extension", result)


def _extend(args: argparse.Namespace, api: ApiClient) -> int:
    body = {"days": args.days, "rationale": args.rationale}
    result = api.extend(args.case, body)
    return _show_outcome(args, f"{args.case}: extension", result)


def _claim(args: argparse.Namespace, api: ApiClient) -> int:
    line = _json_object(args.file)
    if args.reversal:
        line["reversal"] = True
    answer = api.claim(args.case, line)
    if args.json:
        _print_json(answer)
    else:
        _console().print(
            _kv_table(f"{args.case}: claim {answer['claim_id']}/{answer['line']}", answer)
        )
    return EXIT_OK if answer.get("status") != "denied" or not args.fail_on_denial else EXIT_REFUSED


def _event(args: argparse.Namespace, api: ApiClient) -> int:
    result = api.event(args.case, _json_object(args.file))
    if args.json:
        _print_json(result)
    else:
        print(f"{result['case_id']}  event {result['event_id']} accepted")
    return EXIT_OK


def _status(args: argparse.Namespace, api: ApiClient) -> int:
    case = api.case(args.case)
    if args.json:
        _print_json(case)
        return EXIT_OK
    console = _console()
    s = case["summary"]
    console.print(
        _kv_table(
            f"{case['case_id']}",
            {
                "status": s["status"],
                "track": s.get("track"),
                "path": s.get("path"),
                "line of business": s.get("line_of_business"),
                "urgency": s.get("urgency"),
                "awaiting": s.get("awaiting"),
                "missing facts": ", ".join(s.get("missing_facts") or []),
                "review due": s.get("review_due"),
                "escalated": "yes" if s.get("escalated") else None,
                "appeal deadline": s.get("appeal_deadline"),
                "period": f"{s['period_start']} → {s['period_end']}"
                if s.get("period_start")
                else None,
                "renewal window opens": s.get("renewal_window_opens"),
                "claims run-out until": s.get("run_out_until"),
                "renewals": f"{s.get('renewals_used', 0)} of {s.get('max_renewals', 0)}",
                "cycles": f"{s.get('cycles_started', 0)} of {s.get('total_cycles', 0)} started",
                "units": f"{s.get('units_paid', 0)} paid of {s.get('units_authorized', 0)}",
                "last reason": s.get("last_reason"),
            },
        )
    )
    periods = case["periods"]["periods"]
    if periods:
        console.print(
            _rows_table(
                "periods",
                ["#", "kind", "start", "end", "cycles", "units paid / authorized"],
                [
                    [p["index"] + 1, p["kind"], p["start"], p["end"], p["cycles"],
                     f"{p.get('units_paid', 0)} / {p['authorized_units']}"]
                    for p in periods
                ],
            )
        )  # fmt: skip
    cycles = case["cycles"]["cycles"]
    if cycles:
        console.print(
            _rows_table(
                "cycles",
                ["cycle", "start", "phase", "days", "started by"],
                [
                    [c["cycle"], c["start"], c["phase"], c["cycle_days"], c["started_by"]]
                    for c in cycles
                ],
            )
        )
    claims = case["units"].get("claims") or []
    if claims:
        console.print(
            _rows_table(
                "claims",
                ["claim", "line", "status", "allowed", "denied", "CARC"],
                [
                    [c["claim_id"], c["line"], c["status"], c["allowed_units"], c["denied_units"],
                     ",".join(c.get("carc_codes") or [])]
                    for c in claims
                ],
            )
        )  # fmt: skip
    if case["decisions"]:
        console.print(
            _rows_table(
                "decisions",
                ["decided at", "kind", "determination", "by", "reason"],
                [
                    [_when(d["decided_at"]), d["kind"], d["determination"],
                     d.get("actor") or d.get("reviewer_id") or ("engine" if d["automated"] else ""),
                     (d.get("reasons") or [{}])[0].get("code", "")]
                    for d in case["decisions"]
                ],
            )
        )  # fmt: skip
    if case["notifications"]:
        console.print(
            _rows_table(
                "notices",
                ["created", "kind", "to", "status"],
                [
                    [_when(n["created_at"]), n["kind"], n["recipient"], n["status"]]
                    for n in case["notifications"]
                ],
            )
        )
    return EXIT_OK


def _list(args: argparse.Namespace, api: ApiClient) -> int:
    result = api.cases(
        status=args.status,
        track=args.track,
        escalated=None if args.escalated is None else str(args.escalated).lower(),
        period_end_before=args.period_end_before,
        period_end_after=args.period_end_after,
        limit=args.limit,
    )
    if args.json:
        _print_json(result)
        return EXIT_OK
    rows = [
        [c["case_id"], c.get("status"), c.get("track"), c.get("period_end"),
         c.get("renewals_used"), "yes" if c.get("escalated") else "", c.get("execution_status")]
        for c in result["cases"]
    ]  # fmt: skip
    _console().print(
        _rows_table(
            f"{len(rows)} case(s)",
            ["case", "status", "track", "period end", "renewals", "escalated", "workflow"],
            rows,
        )
    )
    return EXIT_OK


# --- bulk load ----------------------------------------------------------------------

LOAD_OPS: dict[str, str] = {
    "submit": "submit",
    "info": "provide_info",
    "review": "review",
    "appeal": "appeal",
    "withdraw": "withdraw",
    "renew": "renew",
    "extend": "extend",
    "extend-review": "extend_review",
    "claim": "claim",
    "event": "event",
}


def load_line(api: ApiClient, record: Any) -> dict[str, Any]:
    """One JSON Lines record: a request (submitted), or ``{"op", "case", "body"}``."""
    if not isinstance(record, dict):
        raise UsageError("each line must be a JSON object")
    if "op" not in record:
        return api.submit(record)
    op = record.get("op")
    if op not in LOAD_OPS:
        raise UsageError(f"unknown op {op!r} (ops: {', '.join(LOAD_OPS)})")
    body = record.get("body")
    if not isinstance(body, dict):
        raise UsageError("'body' must be a JSON object")
    if op == "submit":
        return api.submit(body)
    case = record.get("case")
    if not isinstance(case, str) or not case:
        raise UsageError(f"op {op!r} needs 'case'")
    answer: dict[str, Any] = getattr(api, LOAD_OPS[op])(case, body)
    return answer


def _load(args: argparse.Namespace, api: ApiClient) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    path = Path(args.file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    failures: list[str] = []
    bad_input = False
    counts = {"created": 0, "existing": 0, "done": 0}
    console = _console()
    with Progress(
        TextColumn("[bold]load"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=not console.is_terminal,
        disable=args.quiet,
    ) as progress:
        task = progress.add_task("load", total=len(numbered))
        for n, line in numbered:
            try:
                result = load_line(api, json.loads(line))
                if "created" in result:
                    counts["created" if result["created"] else "existing"] += 1
                else:
                    counts["done"] += 1
            except json.JSONDecodeError as exc:
                failures.append(f"line {n}: not valid JSON ({exc.msg})")
                bad_input = True
            except UsageError as exc:
                failures.append(f"line {n}: {exc}")
                bad_input = True
            except ApiRefusal as exc:
                failures.append(f"line {n}: {exc}")
                bad_input = bad_input or exit_code(exc) == EXIT_USAGE
            except ApiUnreachable as exc:
                failures.append(f"line {n}: {exc}")
                print(f"priorauth load: stopped at line {n}: {exc}", file=sys.stderr)
                break
            finally:
                progress.advance(task)
    print(
        f"loaded {len(numbered) - len(failures)} of {len(numbered)} line(s): "
        f"{counts['created']} case(s) started, {counts['existing']} already there, "
        f"{counts['done']} other operation(s); {len(failures)} refused"
    )
    for failure in failures:
        print(f"  {failure}", file=sys.stderr)
    if bad_input:
        return EXIT_USAGE
    return EXIT_REFUSED if failures else EXIT_OK


# --- registration -------------------------------------------------------------------


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--api-url", default=None, help="default: PRIORAUTH_API_URL or http://127.0.0.1:8000"
    )
    p.add_argument("--token", default=None, help="default: PRIORAUTH_TOKEN")
    p.add_argument("--json", action="store_true", help="print the API's answer as JSON")


def _facts_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--facts", metavar="FILE.json", help="facts as a JSON object (dotted paths or nested)"
    )
    p.add_argument(
        "--set", action="append", metavar="PATH=VALUE", help="one fact; repeatable (VALUE is JSON)"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the case subcommands (submit … list, load)."""

    def add(
        name: str, fn: Callable[[argparse.Namespace, ApiClient], int], help_text: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _common(p)
        p.set_defaults(func=_run(name, fn))
        return p

    p = add("submit", _submit, "submit a prior-authorization request (JSON file, - for stdin)")
    p.add_argument("file", metavar="REQUEST.json")

    p = add("info", _info, "send the facts a pended case is waiting for")
    p.add_argument("case", metavar="CASE", help="case id (pa-REQ-1) or request id")
    _facts_args(p)

    p = add("review", _review, "record a clinical reviewer's decision (the token's subject)")
    p.add_argument("case", metavar="CASE")
    p.add_argument("determination", choices=["approve", "deny", "pend"])
    p.add_argument("--rationale", default="", help="why")
    p.add_argument("--track", default=None, help="track, when approving a case without one")
    p.add_argument(
        "--period-end",
        default=None,
        metavar="YYYY-MM-DD",
        help="approve: a shorter period, ending on this day (Section I)",
    )
    p.add_argument(
        "--units", type=int, default=None, help="approve: fewer units for the period (Section II)"
    )
    p.add_argument(
        "--fact",
        action="append",
        default=[],
        metavar="PATH",
        help="pend: a request field to ask for (dotted, e.g. diagnosis.mrd_percent); repeatable",
    )

    p = add(
        "extend-review",
        _extend_review,
        "extend the open review's decision clock once (reviewer: the token's subject)",
    )
    p.add_argument("case", metavar="CASE")
    p.add_argument("--days", type=int, required=True, help="1 to 14")
    p.add_argument("--reason", required=True, help="why (sent to the prescriber; no PHI)")

    p = add("appeal", _appeal, "appeal a denial")
    p.add_argument("case", metavar="CASE")
    p.add_argument("--reason", default="", help="grounds of the appeal")

    p = add("withdraw", _withdraw, "withdraw a case")
    p.add_argument("case", metavar="CASE")
    p.add_argument("--reason", default="")

    p = add("renew", _renew, "request a renewal (only the facts that changed)")
    p.add_argument("case", metavar="CASE")
    _facts_args(p)

    p = add("extend", _extend, "extend the current period (reviewer: the token's subject)")
    p.add_argument("case", metavar="CASE")
    p.add_argument("--days", type=int, required=True)
    p.add_argument("--rationale", required=True)

    p = add("claim", _claim, "send a claim line; prints the adjudication")
    p.add_argument("case", metavar="CASE")
    p.add_argument("file", metavar="CLAIM.json")
    p.add_argument("--reversal", action="store_true", help="send it as a reversal (void)")
    p.add_argument("--fail-on-denial", action="store_true", help="exit 1 when the line is denied")

    p = add("event", _event, "send a clinical event")
    p.add_argument("case", metavar="CASE")
    p.add_argument("file", metavar="EVENT.json")

    p = add("status", _status, "show one case: status, periods, cycles, claims, decisions, notices")
    p.add_argument("case", metavar="CASE")

    p = add("list", _list, "list or search cases")
    p.add_argument("--status", default=None)
    p.add_argument("--track", default=None)
    esc = p.add_mutually_exclusive_group()
    esc.add_argument("--escalated", dest="escalated", action="store_true", default=None)
    esc.add_argument("--not-escalated", dest="escalated", action="store_false")
    p.add_argument("--period-end-before", default=None, metavar="DATE")
    p.add_argument("--period-end-after", default=None, metavar="DATE")
    p.add_argument("--limit", type=int, default=100)

    p = add("load", _load, "bulk load a JSON Lines file (requests, or {op, case, body} records)")
    p.add_argument("file", metavar="FILE.jsonl")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
