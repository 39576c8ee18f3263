"""An age criterion's trace node records the age it computed, never the date of birth.

A0 (adult, in years), P0-MIN (pediatric, in months) and P0-MAX (pediatric, in years)
read ``member.date_of_birth``; the trace (and so the decision row, the workbench tree
and the recorded histories) keeps the member's whole age on the evaluation day (the
period start; a renewal: the period end): ``{"years": n}`` for a criterion in years,
``{"years": n, "months": m}`` (whole months of age) for one in months, over 89 as 90
(README, Protected health information).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from domain.decision import TraceNode
from domain.renewal import RenewalInput, decide_renewal
from tests.unit.factories import START, born, request


def find(node: TraceNode, node_id: str) -> TraceNode:
    if node.id == node_id:
        return node
    for child in node.children:
        try:
            return find(child, node_id)
        except KeyError:
            pass
    raise KeyError(node_id)


@pytest.mark.parametrize(
    ("base", "dob", "node_id", "verdict", "value"),
    [
        ("adult_rr", born(46), "A0", "met", {"years": 46}),
        ("adult_rr", born(18), "A0", "met", {"years": 18}),  # the 18th birthday itself
        ("adult_rr", born(18, days=1), "A0", "not_met", {"years": 17}),  # the day before it
        ("adult_rr", born(16), "A0", "not_met", {"years": 16}),
        ("adult_rr", "1920-05-17", "A0", "met", {"years": 90}),  # over 89: one category
        ("ped_rr_single_ph_neg", born(5, 3), "P0-MIN", "met", {"years": 5, "months": 63}),
        ("ped_rr_single_ph_neg", born(5, 3), "P0-MAX", "met", {"years": 5}),
        ("ped_rr_single_ph_neg", born(0, 1), "P0-MIN", "met", {"years": 0, "months": 1}),
        (
            "ped_rr_single_ph_neg",
            born(0, 1, days=1),
            "P0-MIN",
            "not_met",
            {"years": 0, "months": 0},
        ),
        ("ped_rr_single_ph_neg", born(20), "P0-MAX", "not_met", {"years": 20}),
    ],
)
def test_an_age_node_records_the_age_on_the_evaluation_day(
    evaluate, base, dob, node_id, verdict, value
):
    decision = evaluate(request(base, member__date_of_birth=dob))

    node = find(decision.trace, node_id)
    assert (node.fact, node.verdict, node.value) == ("member.date_of_birth", verdict, value)
    assert dob not in decision.model_dump_json()


def test_an_unknown_date_of_birth_records_no_age(evaluate):
    decision = evaluate(request("adult_rr", member__date_of_birth=None))

    node = find(decision.trace, "A0")
    assert (node.verdict, node.value) == ("unknown", None)
    assert "member.date_of_birth" in decision.missing_facts


def test_a_renewal_trace_records_the_age_on_the_period_end(policy):
    dob = born(17, 9)  # 17 on the period start, 18 on the period end
    req = request("adult_rr", member__date_of_birth=dob)
    decision = decide_renewal(
        RenewalInput(
            request=req,
            track="relapsed_refractory",
            renewals_used=0,
            period_start=START,
            period_end=date(2027, 6, 30),
            as_of=date(2027, 5, 31),
        ),
        policy,
    )

    assert decision.trace is not None
    assert find(decision.trace, "A0").value == {"years": 18}
    assert dob not in json.dumps(decision.model_dump(mode="json"))
