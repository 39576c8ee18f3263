"""The text of each notice kind (pure; kept with the outbox tests it feeds)."""

from __future__ import annotations

from typing import get_args

import pytest

from activities import notice_text
from activities.models import NotificationKind
from activities.notice_text import TITLES, title
from domain.policy import Policy
from domain.policy_registry import default_registry

KINDS = get_args(NotificationKind)
BLINCYTO = default_registry().for_drug("J9039")


def render(kind: str, payload, case_id: str = "", policy: Policy = BLINCYTO) -> str:
    return notice_text.render(kind, payload, case_id, policy=policy)


def test_every_notification_kind_has_a_title():
    assert set(KINDS) <= set(TITLES)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_an_empty_payload(kind):
    text = render(kind, {}, case_id="pa-REQ-1")

    assert text.startswith(title(kind, BLINCYTO))
    assert text.startswith("Blincyto ")
    assert "Reference: pa-REQ-1" in text


def test_approval_states_period_cycles_and_units():
    text = render(
        "approval",
        {
            "period_start": "2026-12-03",
            "period_end": "2027-06-30",
            "cycles": 5,
            "authorized_units": 4900,
            "max_units_per_42_days": 980,
            "track": "relapsed_refractory",
        },
    )

    assert "2026-12-03 to 2027-06-30" in text
    assert "Cycles covered: 5." in text
    assert "4900 for the period, at most 980 in any 42 consecutive days" in text


def test_pend_lists_exactly_the_missing_facts_and_the_deadline():
    text = render(
        "pend",
        {"missing_facts": ["diagnosis.mrd_percent", "therapy.custom"], "deadline": "2026-12-15"},
    )

    listed = [line for line in text.splitlines() if line.startswith("- ")]
    assert listed == [
        "- measurable residual disease (MRD) level in percent (diagnosis.mrd_percent)",
        "- therapy.custom",
    ]
    assert "by 2026-12-15" in text


def test_denial_gives_reasons_with_citations_and_appeal_rights():
    text = render(
        "denial",
        {
            "reasons": [
                {"code": "not_listed", "policy_ref": "III", "text": "uses not listed"},
                "plain reason",
            ],
            "appeal_deadline": "2027-05-30",
            "appeal_window_days": 180,
        },
    )

    assert "- uses not listed (policy III)" in text
    assert "- plain reason" in text
    assert "within 180 days, by 2027-05-30" in text
    assert "reviewer other than the one" in text


def test_missing_values_read_not_stated_instead_of_failing():
    text = render("approval", {"period_start": None, "cycles": ""})

    assert "Authorized period: not stated to not stated." in text
    assert "Cycles covered: not stated." in text


def test_notice_text_never_shows_member_identity():
    text = render(
        "approval",
        {"member_id": "M-1", "first_name": "Ada", "date_of_birth": "1980-04-02", "cycles": 5},
    )

    assert not any(phi in text for phi in ("M-1", "Ada", "1980-04-02"))


def test_a_denial_on_appeal_says_no_further_appeal_is_available():
    text = render("denial", {"reasons": [], "appeal_deadline": None, "appeal_window_days": 0})

    assert "no further appeal" in text
    assert "appeal this decision" not in text


def test_a_renewal_asked_too_early_names_the_day_the_window_opens():
    text = render(
        "renewal_refused",
        {"reasons": [{"text": "too early", "policy_ref": "IV"}], "window_opens": "2027-06-01"},
    )

    assert "- too early (policy IV)" in text
    assert "from 2027-06-01" in text
    assert "appeal" not in text


def test_an_approval_after_prior_cycles_names_its_cycles_and_says_the_earlier_ones_count():
    text = render("approval", {"cycles": 3, "first_cycle": 4, "authorized_units": 2940})

    assert "Cycles covered: 3 (cycles 4 to 6)." in text
    assert "Cycles 1 to 3 count as blinatumomab already given" in text
    assert "policy Section I, prior therapy" in text


def test_an_approval_from_cycle_1_has_no_prior_therapy_sentence():
    text = render("approval", {"cycles": 5, "first_cycle": 1})

    assert "Cycles covered: 5 (cycles 1 to 5)." in text
    assert "already given" not in text


def test_a_renewal_names_its_single_cycle_without_a_prior_therapy_sentence():
    text = render("renewal_approved", {"cycles": 1, "first_cycle": 9, "renewals_left": 0})

    assert "Cycles covered: 1 (cycle 9)." in text
    assert "already given" not in text
    assert "Renewals left: 0." in text


def test_completion_names_the_last_cycle_authorized():
    text = render("completed", {"period_end": "2028-05-31", "cycles_total": 6, "last_cycle": 9})

    assert "every allowed cycle, through cycle 9, was authorized" in text
    assert "(6 started under this authorization)" in text
    assert "2028-05-31" in text
