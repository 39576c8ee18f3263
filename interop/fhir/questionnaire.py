"""The DTR Questionnaire, generated from the policy data (FHIR.md, "The Questionnaire").

One item per fact some criterion reads (``fact_catalog``): ``linkId`` = the CONTRACT
field path, the type and answer options from the CONTRACT request's schema, the
question text from the criteria that read it, and ``enableWhen`` on
``therapy.setting`` so only the chosen setting's questions show. Its ``version`` is
the policy's: when the policy data changes, the Questionnaire changes with it. Each
drug's policy has its own (``catalog_for(policy)``; ``package`` answers
``$questionnaire-package`` for the drugs asked).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from interop.fhir.drugs import drug_of_order
from interop.fhir.fact_catalog import NONE_CODE, SETTING, Catalog, Fact, default_catalog

CANONICAL_BASE = "urn:priorauth:fhir/Questionnaire"
ANSWER_SYSTEM = "urn:priorauth:contract"


def canonical_url(catalog: Catalog | None = None) -> str:
    catalog = catalog or default_catalog()
    return f"{CANONICAL_BASE}/{catalog.policy_id.lower()}"


def questionnaire(catalog: Catalog | None = None) -> dict[str, Any]:
    """The Questionnaire resource (FHIR R4 JSON), validated by the R4B model."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    catalog = catalog or default_catalog()
    body = {
        "resourceType": "Questionnaire",
        "id": catalog.policy_id.lower(),
        "url": canonical_url(catalog),
        "version": catalog.policy_version,
        "name": "".join(ch for ch in catalog.policy_id.title() if ch.isalnum()),
        "title": f"Prior authorization facts for policy {catalog.policy_id}",
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "Generated from the executable policy: one question per fact its criteria "
            "read; linkId is the CONTRACT field path."
        ),
        "item": [_item(fact) for fact in catalog.facts.values()],
    }
    return Questionnaire.model_validate(body).model_dump(mode="json", exclude_none=True)


def package(catalogs: Iterable[Catalog]) -> dict[str, Any]:
    """``$questionnaire-package``'s answer: Parameters with one PackageBundle holding the
    Questionnaire of each catalog (each drug's policy)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": canonical_url(catalog), "resource": questionnaire(catalog)}
            for catalog in catalogs
        ],
    }
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "PackageBundle", "resource": bundle}],
    }


def drugs_asked(parameters: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The drugs (HCPCS) the ``order`` parameters of ``$questionnaire-package`` ask for,
    and the FHIRPath of each order that names none of ours. No order: no drug named
    (the caller answers for every drug)."""
    found: list[str] = []
    unknown: list[str] = []
    for i, param in enumerate(parameters.get("parameter") or []):
        if not isinstance(param, dict) or param.get("name") != "order":
            continue
        hcpcs = drug_of_order(param.get("resource"))
        if hcpcs is None:
            unknown.append(f"Parameters.parameter[{i}].resource")
        elif hcpcs not in found:
            found.append(hcpcs)
    return found, unknown


def _item(fact: Fact) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": fact.path,
        "text": _text(fact),
        "type": {"string": "string", "open-choice": "open-choice"}.get(fact.kind, fact.kind),
        "repeats": fact.repeats,
        "code": [
            {"system": f"{ANSWER_SYSTEM}/criterion", "code": c, "display": label[:200]}
            for c, label in zip(fact.criteria, _labels(fact), strict=False)
        ][:5],
    }
    if fact.path == SETTING:
        item["required"] = True
    if fact.options:
        item["answerOption"] = [
            {"valueCoding": {"system": f"{ANSWER_SYSTEM}/{fact.path}", "code": o, "display": _d(o)}}
            for o in fact.options
        ]
    if fact.settings:
        item["enableBehavior"] = "any"
        item["enableWhen"] = [
            {
                "question": SETTING,
                "operator": "=",
                "answerCoding": {"system": f"{ANSWER_SYSTEM}/{SETTING}", "code": s},
            }
            for s in sorted(fact.settings)
        ]
    return item


def _labels(fact: Fact) -> list[str]:
    labels = list(fact.labels)
    return labels + [labels[-1] if labels else fact.path] * (len(fact.criteria) - len(labels))


def _text(fact: Fact) -> str:
    section, name = fact.path.split(".", 1)
    question = f"{section.title()}: {_d(name)}"
    if fact.repeats and NONE_CODE in fact.options:
        question += f" (answer '{NONE_CODE}' when there is none)"
    return f"{question} — {'; '.join(fact.labels[:3])}"


def _d(code: str) -> str:
    return code.replace("_", " ")


def question_text(path: str, catalog: Catalog | None = None) -> str:
    catalog = catalog or default_catalog()
    fact = catalog.facts.get(path)
    return _text(fact) if fact is not None else path
