"""Every word and number of notices, the UI summary and the timeline that is not the case's
own comes from the case's policy data: under the synthetic Testomab policy (tests/policies)
they name Testomab, J9999, 10 mcg a unit, 500 units per 28 days, and nothing of Blincyto."""

from __future__ import annotations

import inspect
from datetime import date

import pytest

from activities import notice_text
from api import case_view, timeline_svg
from api.timeline_svg import TimelineCycle, TimelineData, TimelinePeriod, render_timeline
from domain.request import PARequest
from domain.strict import RECORDED
from examples import example_requests
from tests.synthetic_policy import TESTOMAB, TESTOMAB_REF, as_testomab, two_drugs
from workflows import ui

BLINCYTO_WORDS = ("Blincyto", "blinatumomab", "J9039", "980", "42")
TESTOMAB_POLICY = two_drugs().get(TESTOMAB_REF)


def no_blincyto(text: str) -> list[str]:
    return [word for word in BLINCYTO_WORDS if word in text]


@pytest.mark.parametrize("module", [notice_text, ui, timeline_svg, case_view])
def test_no_drug_word_or_number_is_written_in_the_code(module):
    code = "\n".join(
        line for line in inspect.getsource(module).splitlines() if not line.strip().startswith("#")
    )
    # Docstrings may cite Blincyto's figures as an example; string literals may not, but for
    # the names CONTRACT.md gave fields after the first drug.
    for field in ("prior_blinatumomab_cycles", "max_units_per_42_days"):
        code = code.replace(field, "<contract field>")
    literals = [line for line in code.splitlines() if '"' in line and '"""' not in line]
    assert not [line for line in literals if no_blincyto(line)]


def test_an_approval_notice_states_the_policys_drug_unit_limit_and_window():
    payload = {
        "period_start": "2026-12-03",
        "period_end": "2027-02-24",
        "cycles": 3,
        "first_cycle": 2,
        "authorized_units": 1500,
        "max_units_per_42_days": 500,
    }

    text = notice_text.render("approval", payload, "pa-T-1", policy=TESTOMAB_POLICY)

    assert text.startswith("Testomab prior authorization approved")
    assert "HCPCS J9999, 1 unit = 10 mcg): 1500 for the period" in text
    assert "at most 500 in any 28 consecutive days" in text
    assert "Cycle 1 counts as testomab already given" in text
    assert no_blincyto(text) == []


def test_a_pend_notice_names_the_facts_in_the_policys_words():
    payload = {"missing_facts": ["therapy.prior_blinatumomab_cycles"], "deadline": "2026-12-11"}

    text = notice_text.render("pend", payload, policy=TESTOMAB_POLICY)

    assert "- testomab cycles already given (therapy.prior_blinatumomab_cycles)" in text
    assert text.startswith("Testomab prior authorization: information needed")


def test_every_kind_is_titled_with_the_policys_drug():
    for kind in notice_text.TITLES:
        title = notice_text.render(kind, {}, policy=TESTOMAB_POLICY).splitlines()[0]
        assert title.startswith("Testomab ") and no_blincyto(title) == []


def test_the_ui_summary_and_details_name_the_policys_drug():
    data = example_requests.request(**as_testomab())
    request = PARequest.model_validate(data, context=RECORDED)  # J9999 is not in domain/policies

    summary = ui.static_summary(request, TESTOMAB_POLICY)
    details = ui.static_details(request, "m_ref", TESTOMAB_POLICY)

    assert summary.startswith("Testomab PA ")
    assert TESTOMAB in details and TESTOMAB_REF in details
    assert no_blincyto(summary + details) == []


def test_the_timeline_draws_the_policys_limit_over_its_window():
    data = TimelineData(
        case_id="pa-T-1",
        drug=TESTOMAB_POLICY.policy.drug_name,
        max_units_per_window=TESTOMAB_POLICY.units.max_units_per_window,
        window_days=TESTOMAB_POLICY.units.window_days,
        status="active",
        periods=[TimelinePeriod(start=date(2026, 12, 3), end=date(2027, 2, 24))],
        cycles=[TimelineCycle(cycle=1, start=date(2026, 12, 3), cycle_days=28, treatment_days=14)],
    )

    svg = render_timeline(data)

    assert "500 units / 28 days" in svg and "units / 28 days" in svg
    assert "pa-T-1 · Testomab" in svg
    assert "42 days" not in svg
