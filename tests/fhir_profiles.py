"""The PAS IG package (../shared/fhir, beside the repository) and a check of an instance
against a profile's required elements, read from the profile's StructureDefinition."""

from __future__ import annotations

import json
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "fhir"
    / "hl7.fhir.us.davinci-pas-2.2.1.tgz"
)


@cache
def package_files() -> dict[str, Any]:
    """``package/...`` name -> parsed JSON, for every JSON file of the IG package."""
    out = {}
    with tarfile.open(PACKAGE) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".json"):
                handle = tar.extractfile(member)
                assert handle is not None
                try:
                    out[member.name] = json.load(handle)
                except json.JSONDecodeError:
                    continue
    return out


def examples(kind: str = "Bundle") -> dict[str, Any]:
    return {
        name.rsplit("/", 1)[-1]: body
        for name, body in package_files().items()
        if "/example/" in name and body.get("resourceType") == kind
    }


def structure_definition(profile: str) -> dict[str, Any]:
    name = f"package/StructureDefinition-{profile}.json"
    return package_files()[name]


def _children(node: Any, name: str) -> list[Any]:
    if isinstance(node, list):
        return [c for n in node for c in _children(n, name)]
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        prefix = name[:-3]
        values = [v for k, v in node.items() if k.startswith(prefix) and k != prefix]
    else:
        values = [node[name]] if name in node else []
        # A primitive's id and extensions are in JSON's "_name" (FHIR JSON, primitives).
        if f"_{name}" in node:
            values = [node[f"_{name}"]]
    out = []
    for v in values:
        out.extend(v if isinstance(v, list) else [v])
    return out


def missing_required(instance: dict[str, Any], profile: str) -> list[str]:
    """Every element the profile requires (min >= 1, slices aside) that ``instance`` lacks
    where its parent is present."""
    missing = []
    for element in structure_definition(profile)["snapshot"]["element"]:
        path = element["id"]
        if ":" in path or element.get("min", 0) < 1 or "." not in path:
            continue
        *parents, leaf = path.split(".")[1:]
        nodes: list[Any] = [instance]
        for part in parents:
            nodes = [c for n in nodes for c in _children(n, part)]
        for node in nodes:
            if not _children(node, leaf):
                missing.append(path)
    return sorted(set(missing))
