"""The timeline SVG of a case with a hostile id is inert: the id is text, never markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from api.timeline_svg import (
    TimelineClaim,
    TimelineCycle,
    TimelineData,
    TimelinePeriod,
    render_timeline,
)

HOSTILE_IDS = [
    'pa-x" onload="alert(1)',
    "pa-x' onload='alert(1)",
    'pa-x"><script>alert(1)</script><svg onload="alert(2)',
    "pa-x\n onmouseover=alert(1) &amp; <![CDATA[ ]]>",
]


def _data(case_id: str) -> TimelineData:
    start = date(2026, 12, 3)
    return TimelineData(
        case_id=case_id,
        drug='Drug" onload="x',
        max_units_per_window=980,
        window_days=42,
        status='active" onclick="x',
        track='relapsed_refractory" onload="x',
        as_of=date(2027, 1, 10),
        periods=[TimelinePeriod(start=start, end=date(2027, 6, 30), kind='initial" onload="x')],
        cycles=[
            TimelineCycle(
                cycle=1, start=start, cycle_days=42, treatment_days=28, phase='induction" onload="x'
            )
        ],
        claims=[
            TimelineClaim(
                claim_id='CLM-1" onload="alert(1)', line=1, date_of_service=date(2026, 12, 4),
                units=35, allowed_units=35, status='paid" onload="x',
            )
        ],
    )  # fmt: skip


@pytest.mark.parametrize("case_id", HOSTILE_IDS)
def test_the_svg_of_a_hostile_case_id_is_inert(case_id: str) -> None:
    root = ET.fromstring(render_timeline(_data(case_id)))

    elements = list(root.iter())
    tags = {el.tag.rsplit("}", 1)[-1] for el in elements}
    assert tags <= {"svg", "title", "rect", "text", "line", "circle", "polygon"}
    for el in elements:
        assert not [name for name in el.attrib if name.lower().startswith("on")], el.attrib
        for value in el.attrib.values():
            assert case_id not in value
    texts = [t for el in elements for t in (el.text, el.tail) if t]
    assert any(case_id in t for t in texts), "the id is shown as text"


def test_every_hostile_value_stays_inside_its_own_attribute_or_text() -> None:
    root = ET.fromstring(render_timeline(_data("pa-REQ-1")))

    for el in root.iter():
        assert not [name for name in el.attrib if name.lower().startswith("on")]
    fills = {el.attrib.get("fill") for el in root.iter()}
    assert 'paid" onload="x' not in fills  # unknown statuses get the neutral colour
