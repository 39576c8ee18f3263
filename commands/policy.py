"""`priorauth policy diff|impact`: a policy revision seen before it goes live (issue #17).

``diff OLD.yaml NEW.yaml`` lists what changed in the policy's own terms
(``domain.policy_diff``). ``impact DRAFT.yaml`` re-decides, under the draft,
the latest facts of the cases in PostgreSQL and lists whose outcome would
change (``commands.policy_impact``). Both take policy files (or an id, an
``id@version``); a file that does not load is one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from commands.report import iso_date
from domain.policy import Policy, load_policy
from domain.policy_diff import SECTIONS, Change, diff_policies, show, summary


class PolicyFileError(Exception):
    """A policy file that cannot be read or is not a valid policy."""


def read_policy(name: str) -> Policy:
    """Load a policy by path, id or ``id@version``; PolicyFileError with one line if not."""
    import yaml
    from pydantic import ValidationError

    try:
        return load_policy(name)
    except FileNotFoundError:
        raise PolicyFileError(f"{name}: no such policy file") from None
    except OSError as exc:
        raise PolicyFileError(f"{name}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyFileError(f"{name}: not valid YAML{where}") from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            field = ".".join(str(p) for p in error["loc"]) or "(file)"
            problems.append(f"{field}: {error['msg']}")
        raise PolicyFileError(f"{name}: not a valid policy: " + "; ".join(problems)) from None
    except TypeError:  # a YAML document that is not a mapping
        raise PolicyFileError(f"{name}: not a valid policy: not a mapping") from None


def _ref(policy: Policy) -> str:
    return f"{policy.id}@{policy.version}"


def diff_json(old: Policy, new: Policy, changes: list[Change]) -> dict[str, Any]:
    return {
        "old": _ref(old),
        "new": _ref(new),
        "changes": [c.as_json() for c in changes],
        "summary": summary(changes),
    }


def _cell(value: Any) -> str:
    text = show(value)
    return text if len(text) <= 160 else text[:157] + "..."


def _print_diff(old: Policy, new: Policy, changes: list[Change]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{escape(_ref(old))}[/] -> [bold]{escape(_ref(new))}[/]")
    if not changes:
        console.print("no change in the policy's terms")
        return
    marks = {"added": "[green]+[/]", "removed": "[red]-[/]", "changed": "[yellow]~[/]"}
    for section, title in SECTIONS.items():
        mine = [c for c in changes if c.section == section]
        if not mine:
            continue
        table = Table(title=title, title_justify="left", show_lines=False)
        for header in ("", "what", "old", "new", "cites"):
            table.add_column(header, overflow="fold")
        for c in mine:
            table.add_row(
                marks[c.change],
                escape(c.path),
                escape(_cell(c.old)) if c.change != "added" else "",
                escape(_cell(c.new)) if c.change != "removed" else "",
                escape(c.ref or ""),
            )
        console.print(table)
    counts = summary(changes)
    total = {k: sum(by[k] for by in counts.values()) for k in ("added", "removed", "changed")}
    console.print(
        f"{len(changes)} change(s): {total['added']} added, {total['removed']} removed, "
        f"{total['changed']} changed"
    )


def diff(args: argparse.Namespace) -> int:
    try:
        old, new = read_policy(args.old), read_policy(args.new)
    except PolicyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    changes = diff_policies(old, new)
    if args.json:
        print(json.dumps(diff_json(old, new, changes), indent=2))
    else:
        _print_diff(old, new, changes)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("policy", help="Policy revisions: what changed and whom it affects.")
    commands = group.add_subparsers(dest="policy_command", metavar="COMMAND")

    parser = commands.add_parser(
        "diff",
        help="What changed between two policy files, in the policy's own terms.",
        description="Criteria nodes added, removed or changed (ids, citations, thresholds), "
        "tracks and periods, limits, dosing rows, codes and lists.",
    )
    parser.add_argument("old", metavar="OLD", help="the policy file in force (or an id@version)")
    parser.add_argument("new", metavar="NEW", help="the revised policy file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(func=diff)

    parser = commands.add_parser(
        "impact",
        help="Whose outcome a draft policy would change, from the cases in PostgreSQL.",
        description="Re-decides, under DRAFT, the latest facts of every open case in "
        "PostgreSQL (with --since, closed cases received since that day too), beside the "
        "policy in force, and lists the cases whose outcome differs: determination, track, "
        "period, cycles, units, renewability, and the criterion that made the difference. "
        "Cases by case id only. Reads PostgreSQL only.",
    )
    parser.add_argument("draft", metavar="DRAFT", help="the draft policy file")
    parser.add_argument(
        "--current",
        metavar="POLICY",
        help="the policy to compare with (default: the policy file in force for the drug)",
    )
    parser.add_argument(
        "--since", type=iso_date, metavar="DATE", help="also closed cases received on or after DATE"
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of tables")
    out.add_argument("--csv", action="store_true", help="print the changed cases as CSV")
    parser.add_argument(
        "--limit", type=int, default=200, metavar="N", help="at most N cases in the table (200)"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it goes to stderr)"
    )
    parser.set_defaults(func=_impact)


def _impact(args: argparse.Namespace) -> int:
    from commands.policy_impact import impact

    return impact(args)
