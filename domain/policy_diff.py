"""What changed between two versions of a policy, in the policy's own terms (issue #17).

``diff_policies(old, new)`` lists every change as a :class:`Change`:

- **criteria** (Section III) are matched by node id: a node added or removed
  (with its parent, its citation and, for a leaf, its test), a node whose own
  terms changed (label, fact, operator, threshold ``value``, value ``list``,
  AYA ``review_if``, markers such as ``track`` or ``renewal``, its kind), a
  node moved under another parent, children reordered;
- every other section (tracks and periods, units and limits, dosing rows,
  covered codes, billing codes, value lists, renewal rules, Medicare,
  decision clocks) field by field, rows of a table matched by their natural
  key (a cycle range, a dose's days, a jurisdiction), never by position.

Each change names its section, a dotted path to what changed, the policy
citation (``ref``) it sits under, and the old and new values. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from domain.policy import Criterion, Policy

Kind = Literal["added", "removed", "changed"]

#: The order sections are shown in, with a reader's name.
SECTIONS: dict[str, str] = {
    "policy": "Policy",
    "criteria": "Criteria (Section III)",
    "tracks": "Tracks and periods (Section I)",
    "units": "Unit limits (Section II)",
    "dosing": "Dosing (Section V)",
    "covered_icd10": "Covered diagnosis codes (Appendix 1)",
    "billing": "Billing codes (Section VI)",
    "lists": "Value lists (Section III)",
    "prior_therapy": "Prior therapy (Section I)",
    "renewal": "Renewal (Section IV)",
    "outcome": "Outcome wording (Section III)",
    "medicare": "Medicare (Appendix 2)",
    "lines_of_business": "Lines of business",
    "case_defaults": "Case defaults",
}

_NODE_FIELDS = (
    "kind",
    "label",
    "ref",
    "fact",
    "op",
    "value",
    "list",
    "review_if",
    "when_null",
    "code",
    "universal",
    "gate",
    "path",
    "setting",
    "track",
    "regimen",
    "renewal",
    "note",
)
_OPS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<", "eq": "=="}


@dataclass(frozen=True, slots=True)
class Change:
    section: str
    path: str
    change: Kind
    ref: str | None = None
    old: Any = None
    new: Any = None

    @property
    def field(self) -> str:
        """The last segment of the path: what changed (``value``, ``initial_days``…)."""
        return self.path.rsplit(".", 1)[-1]

    def as_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "path": self.path,
            "change": self.change,
            "ref": self.ref,
            "old": self.old,
            "new": self.new,
        }

    def text(self) -> str:
        """One line a committee member reads: ``A-MRD-1.value: 0.1 -> 0.5 (III)``."""
        cite = f" ({self.ref})" if self.ref else ""
        if self.change == "added":
            return f"+ {self.path}: {show(self.new)}{cite}"
        if self.change == "removed":
            return f"- {self.path}: {show(self.old)}{cite}"
        return f"~ {self.path}: {show(self.old)} -> {show(self.new)}{cite}"


def show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def diff_policies(old: Policy, new: Policy) -> list[Change]:
    """Every change from ``old`` to ``new``, section by section (SECTIONS order)."""
    changes: list[Change] = []
    before = old.model_dump(mode="json", by_alias=True, exclude_none=True)
    after = new.model_dump(mode="json", by_alias=True, exclude_none=True)
    for section in [*SECTIONS, *sorted((set(before) | set(after)) - set(SECTIONS))]:
        if section == "criteria":
            changes.extend(_criteria_changes(old.criteria, new.criteria))
        elif section in before or section in after:
            a, b = before.get(section), after.get(section)
            _walk(section, section, a, b, _ref(a) or _ref(b), changes)
    return changes


# ----------------------------------------------------------------------------- criteria


@dataclass(frozen=True, slots=True)
class _Placed:
    node: Criterion
    parent: str | None
    ref: str
    terms: dict[str, Any]


def _index(root: Criterion) -> dict[str, _Placed]:
    found: dict[str, _Placed] = {}

    def visit(node: Criterion, parent: str | None, inherited: str) -> None:
        ref = node.ref or inherited
        found[node.id] = _Placed(node, parent, ref, _terms(node))
        for child in node.children():
            visit(child, node.id, ref)

    visit(root, None, root.ref or "")
    return found


def _terms(node: Criterion) -> dict[str, Any]:
    data = node.model_dump(mode="json", by_alias=True, exclude_none=True)
    for combinator in ("all", "any", "not"):
        data.pop(combinator, None)
    data.pop("id", None)
    data["kind"] = next((k for k in ("all", "any", "not") if getattr(node, f"{k}_")), "leaf")
    defaults = {"label": "", "when_null": "unknown", "universal": False, "path": False}
    defaults["renewal"] = "recheck"
    return {k: data.get(k, defaults.get(k)) for k in _NODE_FIELDS}


def describe(node: Criterion) -> str:
    """A node as a line: its label, and for a leaf its test (``diagnosis.mrd_percent >= 0.1``)."""
    text = node.label or node.id
    if node.op is not None:
        if node.list_name:
            argument = f" list {node.list_name}"
        else:
            argument = "" if node.value is None else f" {show(node.value)}"
        text += f" [{node.fact} {_OPS.get(node.op, node.op)}{argument}]"
    elif node.track:
        text += f" [track {node.track}]"
    return text


def _criteria_changes(old: Criterion, new: Criterion) -> list[Change]:
    a, b = _index(old), _index(new)
    changes: list[Change] = []
    order = list(b) + [i for i in a if i not in b]
    for node_id in order:
        was, now = a.get(node_id), b.get(node_id)
        if was is None and now is not None:
            where = f" under {now.parent}" if now.parent else ""
            changes.append(
                Change("criteria", node_id, "added", now.ref, None, describe(now.node) + where)
            )
        elif now is None and was is not None:
            where = f" under {was.parent}" if was.parent else ""
            changes.append(
                Change("criteria", node_id, "removed", was.ref, describe(was.node) + where, None)
            )
        elif was is not None and now is not None:
            for name in _NODE_FIELDS:
                if was.terms[name] != now.terms[name]:
                    changes.append(
                        Change(
                            "criteria",
                            f"{node_id}.{name}",
                            "changed",
                            now.ref,
                            was.terms[name],
                            now.terms[name],
                        )
                    )
            if was.parent != now.parent:
                changes.append(
                    Change(
                        "criteria", f"{node_id}.parent", "changed", now.ref, was.parent, now.parent
                    )
                )
            kept_a = [c.id for c in was.node.children() if c.id in b]
            kept_b = [c.id for c in now.node.children() if c.id in a]
            if set(kept_a) == set(kept_b) and kept_a != kept_b:
                changes.append(
                    Change("criteria", f"{node_id}.order", "changed", now.ref, kept_a, kept_b)
                )
    return changes


# ----------------------------------------------------------------------------- the rest


def _ref(data: Any) -> str | None:
    return data.get("ref") if isinstance(data, dict) and isinstance(data.get("ref"), str) else None


def _row_key(row: Any) -> str | None:
    """The natural key of a table row: cycles, days, a jurisdiction or state."""
    if not isinstance(row, dict):
        return None
    if "from" in row and "to" in row:
        return f"cycles {row['from']}-{row['to']}"
    cycles = row.get("cycles")
    if isinstance(cycles, dict) and "from" in cycles:
        return f"cycles {cycles['from']}-{cycles['to']}"
    if "from_day" in row:
        return f"days {row['from_day']}-{row['to_day']}"
    for key in ("jurisdiction", "state", "id"):
        if key in row:
            return f"{key} {row[key]}"
    return None


def _walk(section: str, path: str, a: Any, b: Any, ref: str | None, out: list[Change]) -> None:
    if a == b:
        return
    ref = _ref(b) or _ref(a) or ref
    if a is None:
        out.append(Change(section, path, "added", ref, None, b))
    elif b is None:
        out.append(Change(section, path, "removed", ref, a, None))
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            _walk(section, f"{path}.{key}", a.get(key), b.get(key), ref, out)
    elif isinstance(a, list) and isinstance(b, list):
        _walk_list(section, path, a, b, ref, out)
    else:
        out.append(Change(section, path, "changed", ref, a, b))


def _walk_list(
    section: str, path: str, a: list[Any], b: list[Any], ref: str | None, out: list[Change]
) -> None:
    keys_a, keys_b = [_row_key(r) for r in a], [_row_key(r) for r in b]
    keyed = all(keys_a) and all(keys_b)
    if keyed and len(set(keys_a)) == len(a) and len(set(keys_b)) == len(b):
        rows_a, rows_b = dict(zip(keys_a, a, strict=True)), dict(zip(keys_b, b, strict=True))
        for key in [*rows_a, *(k for k in rows_b if k not in rows_a)]:
            _walk(section, f"{path}[{key}]", rows_a.get(key), rows_b.get(key), ref, out)
        return
    scalars = all(not isinstance(v, dict | list) for v in [*a, *b])
    if scalars:
        removed = [v for v in a if v not in b]
        added = [v for v in b if v not in a]
        for value in removed:
            out.append(Change(section, f"{path}[{value}]", "removed", ref, value, None))
        for value in added:
            out.append(Change(section, f"{path}[{value}]", "added", ref, None, value))
        if not removed and not added:
            out.append(Change(section, f"{path}.order", "changed", ref, a, b))
        return
    for i in range(max(len(a), len(b))):
        _walk(
            section,
            f"{path}[{i}]",
            a[i] if i < len(a) else None,
            b[i] if i < len(b) else None,
            ref,
            out,
        )


def summary(changes: list[Change]) -> dict[str, dict[str, int]]:
    """Counts per section and kind of change."""
    counts: dict[str, dict[str, int]] = {}
    for change in changes:
        by = counts.setdefault(change.section, {"added": 0, "removed": 0, "changed": 0})
        by[change.change] += 1
    return counts


__all__ = ["SECTIONS", "Change", "describe", "diff_policies", "show", "summary"]
