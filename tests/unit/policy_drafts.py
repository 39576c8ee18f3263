"""Draft versions of the policy file for the policy diff and impact tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from domain.policy import DEFAULT_POLICY_FILE, POLICY_DIR, Policy

CURRENT = POLICY_DIR / DEFAULT_POLICY_FILE


def current_data() -> dict[str, Any]:
    return yaml.safe_load(CURRENT.read_text(encoding="utf-8"))


def find_node(node: dict[str, Any], node_id: str) -> dict[str, Any]:
    if node.get("id") == node_id:
        return node
    for key in ("all", "any"):
        for child in node.get(key) or []:
            found = find_node_or_none(child, node_id)
            if found is not None:
                return found
    if isinstance(node.get("not"), dict):
        found = find_node_or_none(node["not"], node_id)
        if found is not None:
            return found
    raise KeyError(node_id)


def find_node_or_none(node: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    try:
        return find_node(node, node_id)
    except KeyError:
        return None


def mrd_draft(threshold: float = 0.5, version: str = "2026-draft") -> dict[str, Any]:
    """The current policy with the adult MRD threshold (A-MRD-1) raised to ``threshold``."""
    data = current_data()
    data["policy"]["version"] = version
    node = find_node(data["criteria"], "A-MRD-1")
    node["value"] = threshold
    node["label"] = f"MRD greater than or equal to {threshold}%"
    return data


def as_policy(data: dict[str, Any]) -> Policy:
    return Policy.model_validate(data)


def write(tmp_path: Path, data: dict[str, Any], name: str = "draft.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def version(policy: Policy, name: str, start: date, end: date | None = None, **info: Any):
    """The current policy file as another version, effective ``start`` .. ``end``."""
    return policy.model_copy(
        update={
            "policy": policy.policy.model_copy(
                update={"version": name, "effective_from": start, "effective_to": end, **info}
            )
        }
    )


def next_version(effective_from: date, *, mrd: float = 0.5, rr_renewal_days: int = 126):
    """The current policy as its next version, in effect from ``effective_from`` (an open
    end; the current one's ends the day before): the adult MRD threshold (A-MRD-1) raised
    to ``mrd`` and the relapsed/refractory renewal period cut to ``rr_renewal_days``."""
    data = mrd_draft(mrd, version=effective_from.isoformat())
    data["policy"]["effective_date"] = effective_from
    data["policy"]["effective_from"] = effective_from
    data["tracks"]["relapsed_refractory"]["renewal"]["period_days"] = rr_renewal_days
    return data
