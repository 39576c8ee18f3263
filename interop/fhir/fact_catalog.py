"""The facts the policy's criteria read, as the DTR Questionnaire asks them.

Everything here is derived, never written by hand: the facts are the ``fact`` of
every leaf of the policy's criteria tree (Section III) plus the prior-therapy fact
(Section I); each fact's type and allowed values come from the CONTRACT request's
JSON Schema (``domain.request.PARequest``); the settings a fact is asked for are
the ``setting`` of the paths whose criteria read it (a fact read outside any path —
the universal criteria, the age gates, B-cell precursor — is asked always). A list
fact that some criterion tests with ``op: empty`` gets a ``none`` answer, the only
way a QuestionnaireResponse can state an empty list (an item left out is unknown).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from domain.policy import Criterion, Policy, load_policy
from domain.request import PARequest

SETTING = "therapy.setting"
#: The answer code standing for an empty list (``combined_with: []``, a single agent).
NONE_CODE = "none"


@dataclass
class Fact:
    path: str
    kind: str  # boolean | decimal | integer | date | choice | string
    repeats: bool = False
    options: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    labels: list[str] = field(default_factory=list)  # the criteria that read it
    criteria: list[str] = field(default_factory=list)
    settings: set[str] = field(default_factory=set)  # empty: asked whatever the setting
    always: bool = False
    tested_empty: bool = False


@dataclass(frozen=True)
class Catalog:
    policy_id: str
    policy_version: str
    facts: dict[str, Fact]


def _schema_of(path: str) -> dict[str, Any]:
    schema = PARequest.model_json_schema()
    defs = schema["$defs"]
    node: dict[str, Any] = schema
    for part in path.split("."):
        prop = node["properties"][part]
        ref = prop.get("$ref") or next(
            (a["$ref"] for a in prop.get("anyOf", []) if "$ref" in a), None
        )
        node = defs[ref.split("/")[-1]] if ref else prop
    return node


def _typed(path: str) -> Fact:
    prop = _schema_of(path)
    variants = [a for a in prop.get("anyOf", [prop]) if a.get("type") != "null"]
    v = variants[0] if variants else {}
    repeats = v.get("type") == "array"
    if repeats:
        v = v.get("items", {})
    if "enum" in v:
        return Fact(path, "choice", repeats, options=list(v["enum"]))
    kind = {"boolean": "boolean", "number": "decimal", "integer": "integer"}.get(str(v.get("type")))
    if kind is None:
        kind = "date" if v.get("format") == "date" else "string"
    return Fact(path, kind, repeats, minimum=v.get("minimum"), maximum=v.get("maximum"))


def _walk(node: Criterion, setting: str | None, in_path: bool, out: dict[str, Fact]) -> None:
    if node.path:
        in_path, setting = True, node.setting
    if node.fact:
        fact = out.get(node.fact) or _typed(node.fact)
        out[node.fact] = fact
        fact.criteria.append(node.id)
        if node.label and node.label not in fact.labels:
            fact.labels.append(node.label)
        if not in_path or setting is None:
            fact.always = True
        else:
            fact.settings.add(setting)
        if node.op == "empty":
            fact.tested_empty = True
    for child in node.children():
        _walk(child, setting, in_path, out)


def catalog_of(policy: Policy) -> Catalog:
    facts: dict[str, Fact] = {}
    _walk(policy.criteria, None, False, facts)
    prior = policy.prior_therapy
    fact = facts.get(prior.fact) or _typed(prior.fact)
    fact.always = True
    fact.criteria.append(prior.code)
    fact.labels.append(prior.label)
    facts[prior.fact] = fact
    if SETTING in facts:
        facts[SETTING].always = True
    for f in facts.values():
        if f.always:
            f.settings = set()
        if f.tested_empty and f.repeats and NONE_CODE not in f.options:
            f.options.append(NONE_CODE)
    if "diagnosis.icd10_codes" in facts:
        codes = facts["diagnosis.icd10_codes"]
        codes.kind, codes.options = "open-choice", list(policy.covered_icd10.codes)
    ordered = dict(sorted(facts.items(), key=lambda kv: (kv[0] != SETTING, kv[0])))
    return Catalog(policy.id, policy.version, ordered)


_CATALOGS: dict[str, Catalog] = {}


def catalog_for(policy: Policy) -> Catalog:
    """The catalog of ``policy`` (one drug's policy version), built once per version."""
    found = _CATALOGS.get(policy.ref)
    if found is None or found.policy_id != policy.id:
        found = _CATALOGS[policy.ref] = catalog_of(policy)
    return found


@functools.lru_cache(maxsize=4)
def default_catalog() -> Catalog:
    """The Blincyto policy's catalog (the examples' questionnaire)."""
    return catalog_of(load_policy())
