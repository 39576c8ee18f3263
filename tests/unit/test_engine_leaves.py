"""Every leaf criterion of POLICY.md flipped to not met and to unknown.

Not met: the outcome is a deny recommendation (or what POLICY.md says instead, e.g.
another branch of the same path still meets it). Unknown (the fact not stated): the
request pends listing exactly the facts that would settle it.
"""

from __future__ import annotations

from typing import get_args

import pytest

from domain.decision import TraceNode
from domain.engine import compiled
from domain.request import Tki
from tests.unit.factories import born, request


def find(node: TraceNode, node_id: str) -> TraceNode:
    if node.id == node_id:
        return node
    for child in node.children:
        found = find(child, node_id) if child else None
        if found is not None:
            return found
    return None


# base, leaf id, change that makes the leaf not met, outcome[, the reason that explains it]
# (a setting leaf flipped moves the request to other paths: "uses not listed above")
NOT_MET = [
    ("adult_rr", "U1", {"clinical.live_vaccine_within_2_weeks": True}, "deny"),
    ("adult_rr", "U2", {"clinical.live_vaccine_planned": True}, "deny"),
    ("adult_rr", "U-DX", {"diagnosis.icd10_codes": ["C83.5A"]}, "deny"),
    ("adult_maint_ph_neg", "A0", {"member.date_of_birth": born(14)}, "deny"),
    ("adult_rr", "A1", {"diagnosis.b_cell_precursor": False}, "deny"),
    ("adult_rr", "A-RR-1", {"diagnosis.relapsed_or_refractory": False}, "deny"),
    ("adult_rr", "A-RR-DUR", {"therapy.prior_blinatumomab_cycles": 9}, "deny"),
    ("adult_mrd", "A-MRD-1", {"diagnosis.mrd_percent": 0.09}, "deny"),
    ("adult_mrd", "A-MRD-2", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    ("adult_mrd", "A-MRD-3", {"diagnosis.complete_remission": "third_or_later"}, "deny"),
    ("adult_mrd", "A-MRD-3", {"diagnosis.complete_remission": "none"}, "deny"),
    ("adult_mrd", "A-MRD-DUR", {"therapy.prior_blinatumomab_cycles": 4}, "deny"),
    ("adult_frontline", "A-FI-1", {"therapy.setting": "maintenance"}, "deny", "not_listed"),
    ("adult_frontline", "A-FI-2a", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    ("adult_frontline", "A-FI-3", {"diagnosis.ph_status": "negative"}, "deny"),
    ("adult_frontline", "A-FI-3", {"diagnosis.ph_status": "ph_like"}, "deny"),
    ("adult_frontline", "A-FI-DUR", {"therapy.prior_blinatumomab_cycles": 1}, "deny"),
    ("adult_cons_ph_neg", "A-CONS-1", {"therapy.setting": "maintenance"}, "deny", "not_listed"),
    ("adult_cons_ph_neg", "A-CONS-PHNEG-1", {"diagnosis.ph_status": "positive"}, "deny"),
    ("adult_cons_ph_neg", "A-CONS-PHNEG-2", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    ("adult_cons_ph_neg", "A-CONS-DUR", {"therapy.prior_blinatumomab_cycles": 5}, "deny"),
    ("adult_cons_inotuzumab", "A-CONS-INO-1", {"diagnosis.ph_status": "negative"}, "deny"),
    ("adult_cons_inotuzumab", "A-CONS-INO-2", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    ("adult_cons_inotuzumab", "A-CONS-INO-3", {"therapy.regimen": "pomp_alternating"}, "deny"),
    ("adult_cons_inotuzumab", "A-CONS-INO-3", {"therapy.regimen": None}, "deny"),
    ("adult_cons_inotuzumab", "A-CONS-INO-4", {"diagnosis.tki_status": "intolerant"}, "deny"),
    ("adult_cons_tki", "A-CONS-TKI-1", {"diagnosis.ph_status": "negative"}, "deny"),
    ("adult_cons_tki", "A-CONS-TKI-2a", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    (
        "adult_maint_ph_neg",
        "A-MAINT-1",
        {"therapy.setting": "frontline_induction"},
        "deny",
        "not_listed",
    ),
    ("adult_maint_ph_neg", "A-MAINT-2", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    ("adult_maint_ph_neg", "A-MAINT-3", {"therapy.regimen": "cog_aall1331"}, "deny"),
    ("adult_maint_ph_neg", "A-MAINT-3", {"therapy.regimen": None}, "deny"),
    (
        "adult_maint_ph_neg",
        "A-MAINT-4a",
        {"diagnosis.ph_status": "positive", "diagnosis.tki_status": "responsive"},
        "deny",
    ),
    (
        "adult_maint_ph_pos_refractory",
        "A-MAINT-4b-2",
        {"diagnosis.tki_status": "intolerant"},
        "deny",
    ),
    (
        "adult_maint_ph_pos_refractory",
        "A-MAINT-4b-1",
        {"diagnosis.ph_status": "negative"},
        "approve",
    ),
    ("adult_maint_ph_neg", "A-MAINT-DUR", {"therapy.prior_blinatumomab_cycles": 5}, "deny"),
    ("infant_interfant", "P0-MIN", {"member.date_of_birth": born(0, 1, days=1)}, "deny"),
    ("infant_interfant", "P-INF-1", {"diagnosis.infant_all": False}, "deny"),
    ("infant_interfant", "P-INF-2", {"therapy.regimen": "cog_aall1331"}, "deny"),
    ("infant_interfant", "P-INF-2", {"therapy.regimen": None}, "deny"),
    ("infant_interfant", "P-INF-3", {"therapy.setting": "maintenance"}, "deny", "not_listed"),
    ("infant_interfant", "P-INF-DUR", {"therapy.prior_blinatumomab_cycles": 1}, "deny"),
    ("ped_cons_ph_like_single", "P0-MAX", {"member.date_of_birth": born(31)}, "deny", "not_listed"),
    ("ped_mrd", "P-BCP-1", {"diagnosis.b_cell_precursor": False}, "deny"),
    ("ped_mrd", "P-MRD-1", {"diagnosis.mrd_percent": 0.09}, "deny"),
    ("ped_mrd", "P-MRD-2", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    ("ped_mrd", "P-MRD-3", {"diagnosis.complete_remission": "none"}, "deny"),
    ("ped_mrd", "P-MRD-DUR", {"therapy.prior_blinatumomab_cycles": 4}, "deny"),
    (
        "ped_cons_ph_pos_tki",
        "P-CONS-1",
        {"therapy.setting": "frontline_induction"},
        "deny",
        "not_listed",
    ),
    ("ped_cons_ph_pos_tki", "P-CONS-PHPOS-1", {"diagnosis.ph_status": "negative"}, "deny"),
    ("ped_cons_ph_pos_tki", "P-CONS-PHPOS-2", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    ("ped_cons_ph_pos_tki", "P-CONS-PHPOS-3", {"therapy.tki": "ponatinib"}, "deny"),
    ("ped_cons_ph_pos_tki", "P-CONS-DUR", {"therapy.prior_blinatumomab_cycles": 5}, "deny"),
    ("ped_cons_ph_neg", "P-CONS-PHNEG-1", {"diagnosis.ph_status": "positive"}, "deny"),
    ("ped_cons_ph_neg", "P-CONS-PHNEG-2", {"therapy.combined_with": ["ruxolitinib"]}, "deny"),
    ("ped_cons_ph_like_single", "P-CONS-PHLIKE-1", {"diagnosis.ph_status": "positive"}, "deny"),
    (
        "ped_cons_ph_like_single",
        "P-CONS-PHLIKE-2a",
        {"therapy.combined_with": ["ruxolitinib"]},
        "deny",
    ),
    ("ped_cons_ph_like_chemo_tki", "P-CONS-PHLIKE-2b", {"therapy.combined_with": ["tki"]}, "deny"),
    ("ped_cons_ph_like_chemo_tki", "P-CONS-PHLIKE-3b", {"therapy.tki": "nilotinib"}, "deny"),
    ("ped_rr_single_ph_neg", "P-RR-1", {"diagnosis.relapsed_or_refractory": False}, "deny"),
    ("ped_rr_single_ph_neg", "P-RR-SA-1", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    (
        "ped_rr_single_ph_neg",
        "P-RR-SA-2a",
        {"diagnosis.ph_status": "positive", "diagnosis.tki_status": "responsive"},
        "deny",
    ),
    ("ped_rr_single_ph_neg", "P-RR-SA-DUR", {"therapy.prior_blinatumomab_cycles": 9}, "deny"),
    (
        "ped_rr_single_ph_pos_intolerant",
        "P-RR-SA-2b-2",
        {"diagnosis.tki_status": "responsive"},
        "deny",
    ),
    (
        "ped_rr_single_ph_pos_intolerant",
        "P-RR-SA-2b-1",
        {"diagnosis.ph_status": "negative"},
        "approve",
    ),
    ("ped_rr_aall1331", "P-RR-1331-2", {"therapy.combined_with": ["chemotherapy"]}, "deny"),
    (
        "ped_rr_aall1331",
        "P-RR-1331-3",
        {"diagnosis.ph_status": "positive", "diagnosis.tki_status": "responsive"},
        "deny",
    ),
    ("ped_rr_aall1331", "P-RR-1331-1", {"therapy.regimen": None}, "approve"),  # single agent
    ("ped_rr_aall1331", "P-RR-1331-DUR", {"therapy.prior_blinatumomab_cycles": 3}, "approve"),
    (
        "ped_cons_ph_like_chemo_tki",
        "P-CONS-PHLIKE-3a-1",
        {"therapy.combined_with": ["chemotherapy"]},
        "approve",
    ),
    ("ped_rr_tki", "P-RR-TKI-1", {"therapy.combined_with": []}, "deny"),
    ("ped_rr_tki", "P-RR-TKI-2", {"therapy.tki": "bosutinib"}, "deny"),
    ("ped_rr_tki", "P-RR-TKI-3", {"diagnosis.ph_status": "negative"}, "deny"),
    ("ped_rr_tki", "P-RR-TKI-DUR", {"therapy.prior_blinatumomab_cycles": 9}, "deny"),
]


@pytest.mark.parametrize(
    ("base", "leaf", "changes", "outcome", "explained_by"),
    [(*r, r[1]) if len(r) == 4 else r for r in NOT_MET],
    ids=[f"{r[0]}-{r[1]}-{'-'.join(map(str, r[2].values()))}" for r in NOT_MET],
)
def test_a_leaf_flipped_to_not_met_changes_the_outcome(
    evaluate, base, leaf, changes, outcome, explained_by
):
    decision = evaluate(request(base, changes))

    assert find(decision.trace, leaf).verdict == "not_met"
    assert decision.determination == outcome
    if outcome == "deny":
        assert decision.x12_action == "A3"
        assert decision.automated is False  # a recommendation: a reviewer issues denials
        assert decision.authorization is None
        explained = [r.code for r in decision.reasons] + [r.text for r in decision.reasons]
        assert any(text.startswith(explained_by) for text in explained)
        assert all(r.policy_ref for r in decision.reasons)


# base, leaf id, fact set to null, exactly the missing facts
UNKNOWN = [
    ("adult_rr", "U1", "clinical.live_vaccine_within_2_weeks", None),
    ("adult_rr", "U2", "clinical.live_vaccine_planned", None),
    ("adult_rr", "U-DX", "diagnosis.icd10_codes", None),
    ("adult_rr", "A0", "member.date_of_birth", None),
    ("adult_rr", "A1", "diagnosis.b_cell_precursor", None),
    ("adult_rr", "A-RR-1", "diagnosis.relapsed_or_refractory", None),
    ("adult_rr", "A-RR-DUR", "therapy.prior_blinatumomab_cycles", None),
    ("adult_mrd", "A-MRD-1", "diagnosis.mrd_percent", None),
    ("adult_mrd", "A-MRD-2", "therapy.combined_with", None),
    ("adult_mrd", "A-MRD-3", "diagnosis.complete_remission", None),
    ("adult_frontline", "A-FI-1", "therapy.setting", None),
    ("adult_frontline", "A-FI-2a", "therapy.combined_with", None),
    ("adult_frontline", "A-FI-2b", "therapy.tki", None),
    ("adult_frontline", "A-FI-3", "diagnosis.ph_status", None),
    ("adult_cons_ph_neg", "A-CONS-1", "therapy.setting", None),
    ("adult_cons_ph_neg", "A-CONS-PHNEG-1", "diagnosis.ph_status", None),
    ("adult_cons_ph_neg", "A-CONS-PHNEG-2", "therapy.combined_with", None),
    ("adult_cons_inotuzumab", "A-CONS-INO-1", "diagnosis.ph_status", None),
    ("adult_cons_inotuzumab", "A-CONS-INO-2", "therapy.combined_with",
     ["therapy.combined_with", "therapy.tki"]),
    ("adult_cons_inotuzumab", "A-CONS-INO-4", "diagnosis.tki_status", None),
    ("adult_cons_tki", "A-CONS-TKI-1", "diagnosis.ph_status", None),
    ("adult_cons_tki", "A-CONS-TKI-2a", "therapy.combined_with", None),
    ("adult_cons_tki", "A-CONS-TKI-2b", "therapy.tki", None),
    ("adult_maint_ph_neg", "A-MAINT-1", "therapy.setting",
     ["diagnosis.mrd_percent", "diagnosis.complete_remission", "therapy.setting"]),
    ("adult_maint_ph_neg", "A-MAINT-2", "therapy.combined_with", None),
    ("adult_maint_ph_neg", "A-MAINT-4a", "diagnosis.ph_status",
     ["diagnosis.ph_status", "diagnosis.tki_status"]),
    ("adult_maint_ph_pos_refractory", "A-MAINT-4b-1", "diagnosis.ph_status", None),
    ("adult_maint_ph_pos_refractory", "A-MAINT-4b-2", "diagnosis.tki_status", None),
    ("infant_interfant", "P0-MIN", "member.date_of_birth", None),
    ("infant_interfant", "P-INF-1", "diagnosis.infant_all", None),
    ("infant_interfant", "P-INF-3", "therapy.setting",
     ["therapy.setting", "diagnosis.mrd_percent", "diagnosis.complete_remission"]),
    ("ped_mrd", "P-BCP-1", "diagnosis.b_cell_precursor", None),
    ("ped_mrd", "P-MRD-1", "diagnosis.mrd_percent", None),
    ("ped_mrd", "P-MRD-2", "therapy.combined_with", None),
    ("ped_mrd", "P-MRD-3", "diagnosis.complete_remission", None),
    ("ped_mrd", "P-MRD-DUR", "therapy.prior_blinatumomab_cycles", None),
    ("ped_cons_ph_pos_tki", "P-CONS-1", "therapy.setting", None),
    ("ped_cons_ph_pos_tki", "P-CONS-PHPOS-1", "diagnosis.ph_status", None),
    ("ped_cons_ph_pos_tki", "P-CONS-PHPOS-2", "therapy.combined_with", None),
    ("ped_cons_ph_pos_tki", "P-CONS-PHPOS-3", "therapy.tki", None),
    ("ped_cons_ph_neg", "P-CONS-PHNEG-1", "diagnosis.ph_status", None),
    ("ped_cons_ph_neg", "P-CONS-PHNEG-2", "therapy.combined_with", None),
    ("ped_cons_ph_like_single", "P-CONS-PHLIKE-1", "diagnosis.ph_status", None),
    ("ped_cons_ph_like_single", "P-CONS-PHLIKE-2a", "therapy.combined_with",
     ["therapy.combined_with", "therapy.tki"]),
    ("ped_cons_ph_like_chemo_tki", "P-CONS-PHLIKE-3b", "therapy.tki", None),
    ("ped_rr_single_ph_neg", "P-RR-1", "diagnosis.relapsed_or_refractory", None),
    ("ped_rr_single_ph_neg", "P-RR-SA-1", "therapy.combined_with", None),
    ("ped_rr_single_ph_neg", "P-RR-SA-2a", "diagnosis.ph_status",
     ["diagnosis.ph_status", "diagnosis.tki_status"]),
    ("ped_rr_single_ph_pos_intolerant", "P-RR-SA-2b-2", "diagnosis.tki_status", None),
    ("ped_rr_aall1331", "P-RR-1331-2", "therapy.combined_with", None),
    ("ped_rr_aall1331", "P-RR-1331-3", "diagnosis.ph_status",
     ["diagnosis.ph_status", "diagnosis.tki_status"]),
    ("ped_rr_tki", "P-RR-TKI-1", "therapy.combined_with", None),
    ("ped_rr_tki", "P-RR-TKI-2", "therapy.tki", None),
    ("ped_rr_tki", "P-RR-TKI-3", "diagnosis.ph_status", None),
    ("ped_mrd", "P0-MAX", "member.date_of_birth", None),
    ("ped_cons_ph_like_chemo_tki", "P-CONS-PHLIKE-2b", "therapy.combined_with", None),
    ("ped_cons_ph_like_chemo_tki", "P-CONS-PHLIKE-3a-1", "therapy.combined_with", None),
    ("ped_rr_single_ph_pos_intolerant", "P-RR-SA-2b-1", "diagnosis.ph_status", None),
    *(
        (base, leaf, "therapy.prior_blinatumomab_cycles", None)
        for base, leaf in [
            ("adult_mrd", "A-MRD-DUR"),
            ("adult_frontline", "A-FI-DUR"),
            ("adult_cons_ph_neg", "A-CONS-DUR"),
            ("adult_maint_ph_neg", "A-MAINT-DUR"),
            ("infant_interfant", "P-INF-DUR"),
            ("ped_cons_ph_neg", "P-CONS-DUR"),
            ("ped_rr_single_ph_neg", "P-RR-SA-DUR"),
            ("ped_rr_aall1331", "P-RR-1331-DUR"),
            ("ped_rr_tki", "P-RR-TKI-DUR"),
        ]
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("base", "leaf", "fact", "missing"), UNKNOWN, ids=[f"{r[0]}-{r[1]}" for r in UNKNOWN]
)
def test_a_leaf_flipped_to_unknown_pends_for_exactly_the_missing_facts(
    evaluate, base, leaf, fact, missing
):
    decision = evaluate(request(base, {fact: None}))

    assert find(decision.trace, leaf).verdict == "unknown"
    assert find(decision.trace, leaf).fact == fact
    assert decision.determination == "pend"
    assert decision.x12_action == "A4"
    assert decision.missing_facts == (missing or [fact])
    assert decision.authorization is None
    assert {r.code for r in decision.reasons} == {"missing_fact"}


def test_the_regimen_names_a_protocol_so_null_means_none_not_unknown(evaluate):
    decision = evaluate(request("adult_maint_ph_neg", therapy__regimen=None))

    assert find(decision.trace, "A-MAINT-3").verdict == "not_met"
    assert decision.determination == "deny"


def test_prior_cycles_from_the_systems_record_count_when_larger(evaluate):
    decision = evaluate(request("adult_mrd"), prior_cycles=4)

    assert find(decision.trace, "A-MRD-DUR").verdict == "not_met"
    assert decision.determination == "deny"
    assert "duration_exceeded" in [r.code for r in decision.reasons]
    assert [r.policy_ref for r in decision.reasons if r.code == "duration_exceeded"] == ["I"]


def test_prior_cycles_below_the_total_keep_the_period_and_grant_only_the_cycles_left(evaluate):
    decision = evaluate(request("adult_mrd", therapy__prior_blinatumomab_cycles=3), prior_cycles=2)

    assert decision.determination == "approve"
    auth = decision.authorization
    assert (auth.days, auth.first_cycle, auth.cycles, auth.authorized_units) == (168, 4, 1, 980)


def test_unstated_prior_cycles_deny_when_the_systems_record_reaches_the_total(evaluate):
    decision = evaluate(
        request("adult_mrd", therapy__prior_blinatumomab_cycles=None), prior_cycles=4
    )

    assert decision.determination == "deny"


def test_the_aall1331_total_does_not_stop_the_single_agent_relapsed_track(evaluate):
    decision = evaluate(request("ped_rr_aall1331", therapy__prior_blinatumomab_cycles=3))

    assert find(decision.trace, "P-RR-1331-DUR").verdict == "not_met"
    assert (decision.determination, decision.track) == ("approve", "relapsed_refractory")


def test_every_tki_a_request_can_name_is_an_adult_tki_so_adult_tki_leaves_are_met_or_unknown(
    policy,
):
    assert sorted(get_args(Tki)) == sorted(policy.lists["adult_tkis"].values)


def test_every_leaf_of_the_policy_has_a_flip_in_these_tables(policy):
    leaves = {n.id for n in compiled(policy).nodes if n.kind == 0}
    flipped_to_not_met = {row[1] for row in NOT_MET}
    flipped_to_unknown = {row[1] for row in UNKNOWN}
    # a TKI named on a request is always an adult TKI (see the test above); a regimen
    # left null is a stated "no regimen" and is flipped to not met above
    only_met_or_unknown = {"A-FI-2b", "A-CONS-TKI-2b"}
    null_is_not_met = {"A-CONS-INO-3", "A-MAINT-3", "P-INF-2", "P-RR-1331-1"}

    assert leaves - flipped_to_not_met == only_met_or_unknown
    assert leaves - flipped_to_unknown == null_is_not_met
