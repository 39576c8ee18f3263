"""Facts describe the member's disease and therapy; they never re-key a case.

``provide_info`` and renewal facts may not change how the case was received,
its line of business, urgency or drug, or whom it is for (domain.facts
.FIXED_FIELDS): the API's facts model leaves those fields out of the schema and
refuses them, and the workflow's validator refuses them again.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.facts import InfoFacts, RequestFacts
from domain.facts import FIXED_FIELDS, fixed_fact_problems

FIXED_FACTS = [
    {"request_id": "REQ-OTHER"},
    {"received_at": "2026-01-01T00:00:00Z"},
    {"line_of_business": "medicaid"},
    {"urgency": "expedited"},
    {"member.member_id": "M-2"},
    {"member": {"member_id": "M-2"}},
    {"member": {"last_name": "Other"}},
    {"service.hcpcs": "J9039"},
    {"service": {"ndc": "55513-0160-01"}},
]


@pytest.mark.parametrize("facts", FIXED_FACTS, ids=lambda f: next(iter(f)))
def test_a_fact_naming_a_fixed_field_is_refused_by_the_domain_naming_it(facts):
    problems = fixed_fact_problems(facts)

    assert len(problems) == 1
    assert problems[0]["field"].startswith("facts.")
    assert problems[0]["field"].removeprefix("facts.") in FIXED_FIELDS
    assert "M-2" not in str(problems) and "Other" not in str(problems)


@pytest.mark.parametrize("facts", FIXED_FACTS, ids=lambda f: next(iter(f)))
def test_the_api_facts_model_refuses_a_fixed_field(facts):
    with pytest.raises(ValidationError):
        InfoFacts.model_validate(facts)


@pytest.mark.parametrize(
    "facts",
    [
        {"diagnosis.mrd_percent": 0.4},
        {"member.date_of_birth": "2001-02-03"},
        {"member": {"state": "OR"}},
        {"service": {"requested_start": "2026-12-10"}},
        {"therapy": {"prior_blinatumomab_cycles": 2}},
    ],
    ids=lambda f: next(iter(f)),
)
def test_facts_of_the_member_disease_and_therapy_are_still_taken(facts):
    assert fixed_fact_problems(facts) == []
    InfoFacts.model_validate(facts)


def test_the_facts_schema_does_not_offer_the_fixed_fields():
    schema = RequestFacts.model_json_schema(by_alias=True)
    offered = set(schema["properties"])
    member = schema["$defs"]["MemberFacts"]["properties"]

    assert offered.isdisjoint({"request_id", "received_at", "urgency", "line_of_business"})
    assert offered.isdisjoint({"member.member_id", "service.hcpcs", "service.ndc"})
    assert "member.date_of_birth" in offered
    assert set(member) == {"date_of_birth", "state"}
