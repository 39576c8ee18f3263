"""The items and services that require prior authorization (CMS-0057-F, 89 FR 8889).

One entry per drug (HCPCS code, Section VI of its policy) whose policy is in
effect on the day asked, with its description, NDC products and the policy
version (``domain.policy_versions``). Pure: the caller gives the policies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from domain.policy import Policy
from domain.policy_versions import NoVersionInEffect, drugs_of, select_version


@dataclass(frozen=True, slots=True)
class PaItem:
    hcpcs: str
    description: str
    ndc_products: tuple[str, ...]
    policy: str
    title: str
    effective_from: str

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ndc_products": list(self.ndc_products)}


def items_requiring_pa(policies: list[Policy], day: date) -> list[PaItem]:
    """Every drug some policy version in effect on ``day`` covers, by HCPCS code."""
    items = []
    for hcpcs in sorted({code for p in policies for code in drugs_of(p)}):
        try:
            policy = select_version(policies, hcpcs, day)
        except NoVersionInEffect:
            continue
        billing = policy.billing
        items.append(
            PaItem(
                hcpcs=hcpcs,
                description=billing.hcpcs_description or policy.policy.drug,
                ndc_products=tuple(billing.ndc_products),
                policy=f"{policy.id}@{policy.version}",
                title=policy.policy.title,
                effective_from=policy.policy.in_effect_from.isoformat(),
            )
        )
    return items


__all__ = ["PaItem", "items_requiring_pa"]
