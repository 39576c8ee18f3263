"""Which drugs the policies cover: the billing codes of every policy file (Section VI).

CONTRACT.md, "Prior-authorization request": ``service.hcpcs`` must be a
policy's drug and ``service.ndc``, when given, one of that drug's NDCs; a
request for another drug is refused unless another policy covers it. The
codes come from the ``billing`` section of each policy of the policy registry
(``domain.policy_registry.default_registry()``: every ``domain/policies/*.yaml``
file; a second drug is a second file, not code). An NDC is a policy's
labeler-product (``55513-0160``) with any two-digit package code, written
with hyphens (``55513-0160-01``) or as 11 digits (``55513016001``), as
POLICY.md, Section VI, writes it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from domain import policy_registry
from domain.policy_registry import PolicyRegistry


@dataclass(frozen=True)
class CoveredDrug:
    """One HCPCS code with the NDC products the same policy lists for it."""

    hcpcs: str
    ndc_products: tuple[str, ...]
    policy_refs: tuple[str, ...]


def _ndc_alternatives(product: str) -> list[str]:
    """``55513-0160`` -> the hyphenated and the 11-digit spelling, as regex alternatives."""
    labeler, _, item = product.partition("-")
    return [
        f"{re.escape(labeler)}-{re.escape(item)}-[0-9]{{2}}",
        f"{re.escape(labeler + item)}[0-9]{{2}}",
    ]


def ndc_pattern(products: tuple[str, ...] | list[str]) -> str:
    """An anchored regex matching every spelling of the given NDC products."""
    alternatives = [alt for product in products for alt in _ndc_alternatives(product)]
    return "^(?:" + "|".join(alternatives) + ")$"


def covered_drugs(registry: PolicyRegistry | None = None) -> tuple[CoveredDrug, ...]:
    """Every HCPCS code of every policy of the registry (default: the process's), with its
    NDCs."""
    return _covered(registry or policy_registry.default_registry())


@functools.lru_cache(maxsize=8)
def _covered(registry: PolicyRegistry) -> tuple[CoveredDrug, ...]:
    products: dict[str, list[str]] = {}
    refs: dict[str, list[str]] = {}
    for policy in registry.policies:
        for code in policy.billing.hcpcs:
            products.setdefault(code, [])
            refs.setdefault(code, [])
            for product in policy.billing.ndc_products:
                if product not in products[code]:
                    products[code].append(product)
            ref = f"{policy.id} {policy.billing.ref}"
            if ref not in refs[code]:
                refs[code].append(ref)
    return tuple(
        CoveredDrug(hcpcs=code, ndc_products=tuple(products[code]), policy_refs=tuple(refs[code]))
        for code in sorted(products)
    )


def covered_hcpcs() -> tuple[str, ...]:
    return tuple(drug.hcpcs for drug in covered_drugs())


def all_ndc_products() -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for drug in covered_drugs() for p in drug.ndc_products))


def ndc_products_of(hcpcs: str) -> tuple[str, ...]:
    for drug in covered_drugs():
        if drug.hcpcs == hcpcs:
            return drug.ndc_products
    return ()


def ndc_matches(ndc: str, products: tuple[str, ...] | list[str]) -> bool:
    return bool(products) and re.fullmatch(ndc_pattern(products), ndc) is not None


__all__ = [
    "CoveredDrug",
    "all_ndc_products",
    "covered_drugs",
    "covered_hcpcs",
    "ndc_matches",
    "ndc_pattern",
    "ndc_products_of",
]
