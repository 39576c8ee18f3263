"""Policy impact (issue #17): the cases whose outcome a draft changes, and why."""

from __future__ import annotations

from domain.engine import decide
from domain.policy_impact import ImpactAnalysis, ImpactSummary
from tests.unit.factories import CHILD, request
from tests.unit.policy_drafts import as_policy, current_data, mrd_draft

MRDS = [0.05, 0.1, 0.2, 0.3, 0.49, 0.5, 0.8, None]


def _mrd_cases():
    cases = {f"pa-ADULT-{m}": request("adult_mrd", {"diagnosis.mrd_percent": m}) for m in MRDS}
    cases |= {
        f"pa-CHILD-{m}": request(
            "adult_mrd", {"diagnosis.mrd_percent": m, "member.date_of_birth": CHILD}
        )
        for m in MRDS
    }
    cases["pa-RR"] = request("adult_rr")
    return cases


def test_raising_the_adult_mrd_threshold_changes_exactly_the_adults_between_the_thresholds(
    policy,
):
    analysis = ImpactAnalysis(policy, as_policy(mrd_draft(0.5)))
    impacts = [analysis.compare(cid, req) for cid, req in _mrd_cases().items()]
    changed = {i.case_id: i for i in impacts if i is not None}

    assert sorted(changed) == ["pa-ADULT-0.1", "pa-ADULT-0.2", "pa-ADULT-0.3", "pa-ADULT-0.49"]
    for impact in changed.values():
        assert impact.node == "A-MRD"
        assert impact.node_ref == "III (ALL – Adult)"
        assert impact.criteria == ("A-MRD-1",)
        assert impact.before.determination == "approve"
        assert impact.before.track == "mrd_positive"
        assert impact.after.determination == "deny"
        assert impact.kinds == (
            "determination", "track", "period", "cycles", "units", "renewability",
        )  # fmt: skip


def test_the_outcome_compared_is_the_one_decide_gives(policy):
    analysis = ImpactAnalysis(policy, as_policy(mrd_draft(0.5)))
    req = request("adult_mrd", {"diagnosis.mrd_percent": 0.3})
    impact = analysis.compare("pa-X", req)
    decision = decide(req, policy, as_of=req.received_on)
    auth = decision.authorization
    assert impact.before.determination == decision.determination
    assert (impact.before.days, impact.before.cycles, impact.before.units) == (
        auth.days,
        auth.cycles,
        auth.authorized_units,
    )
    assert impact.before.renewable == auth.renewable


def test_a_draft_identical_to_the_policy_in_force_changes_no_case(policy):
    analysis = ImpactAnalysis(policy, as_policy(current_data()))
    summary = ImpactSummary()
    for cid, req in _mrd_cases().items():
        summary.add(analysis.compare(cid, req))
    assert (summary.cases, summary.changed) == (len(_mrd_cases()), 0)


def test_a_shorter_track_changes_period_and_cycles_but_not_the_determination(policy):
    data = current_data()
    data["tracks"]["mrd_positive"].update(initial_days=126, initial_cycles=3, total_cycles=3)
    data["tracks"]["mrd_positive"]["cycles"][1]["to"] = 3
    data["dosing"]["tracks"]["mrd_positive"][0]["cycles"]["to"] = 3
    analysis = ImpactAnalysis(policy, as_policy(data))
    impact = analysis.compare("pa-M", request("adult_mrd"))

    assert impact.kinds == ("period", "cycles", "units")
    assert (impact.before.days, impact.after.days) == (168, 126)
    assert (impact.before.units, impact.after.units) == (3920, 2940)
    assert impact.node == "A-MRD" and impact.criteria == ()
