"""The Temporal UI's current details and the timeline picture name the cycles a period
covers by number (policy Section I, "Prior therapy": the numbering continues)."""

from __future__ import annotations

from datetime import date

from activities.evaluation import track_terms
from api.timeline_svg import TimelineCycle, TimelineData, TimelinePeriod, render_timeline
from domain.case.state import CaseState, CycleState, PeriodState
from domain.terms import initial_authorization, renewal_authorization
from tests.unit.factories import request
from workflows.ui import current_details


def _case(policy, prior: int) -> CaseState:
    auth = initial_authorization(policy, "relapsed_refractory", date(2026, 12, 3), prior)
    return CaseState(
        case_id="pa-REQ-1",
        status="active",
        request=request("adult_rr", therapy__prior_blinatumomab_cycles=prior),
        received_day=date(2026, 12, 1),
        track="relapsed_refractory",
        terms=track_terms(policy, "relapsed_refractory"),
        periods=[PeriodState.granted(auth, "initial")],
        max_renewals=auth.max_renewals,
        cycles=[CycleState(cycle=auth.first_cycle, start=date(2026, 12, 3), cycle_days=42)],
    )


def test_the_ui_details_name_the_periods_cycles_the_prior_ones_and_the_renewals_left(policy):
    details = current_details(_case(policy, 3))

    assert "- cycles: 1 started of 9 (3 prior); this period: cycles 4–6; renewals: 0/2" in details


def test_the_ui_details_show_no_renewals_when_no_cycle_is_left_after_the_period(policy):
    details = current_details(_case(policy, 8))

    assert "(8 prior); this period: cycle 9; renewals: 0/0" in details


def test_the_timeline_labels_each_period_with_the_cycle_numbers_it_covers(policy):
    first = initial_authorization(policy, "relapsed_refractory", date(2026, 12, 3), 3)
    renewal = renewal_authorization(policy, "relapsed_refractory", first.end, 0, first.last_cycle)
    data = TimelineData(
        case_id="pa-REQ-1",
        drug=policy.policy.drug_name,
        max_units_per_window=policy.units.max_units_per_window,
        window_days=policy.units.window_days,
        status="active",
        periods=[
            TimelinePeriod(
                start=a.start, end=a.end, kind=a.kind, first_cycle=a.first_cycle, cycles=a.cycles
            )
            for a in (first, renewal)
        ],
        cycles=[TimelineCycle(cycle=4, start=date(2026, 12, 3), cycle_days=42, treatment_days=28)],
    )

    svg = render_timeline(data)

    assert "initial period 2026-12-03 – 2027-06-30 (210 days, cycles 4–6)" in svg
    assert "renewal period 2027-07-01 – 2027-12-15 (168 days, cycles 7–8)" in svg
    assert ">C4<" in svg
