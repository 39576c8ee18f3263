"""Medicare Part B: the Medicare Administrative Contractor (policy Appendix 2).

The jurisdiction is read from the state where the service is rendered
(``service.site_state``, else ``member.state``); a state may have county
exceptions (Virginia: Arlington and Fairfax counties and the city of
Alexandria are jurisdiction L, the rest M), read from ``service.site_county``.
"""

from __future__ import annotations

import re

from domain.decision import MedicareAnswer
from domain.policy import Policy
from domain.request import PARequest


def _place(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z ]", "", name.lower())).strip()


def mac_for(policy: Policy, state: str | None, county: str | None = None) -> MedicareAnswer | None:
    """The MAC jurisdiction and contractor for a state (and county), or None if unknown."""
    if not state:
        return None
    state = state.strip().upper()
    jurisdiction = None
    if county:
        place = _place(county)
        for exception in policy.medicare.county_exceptions:
            if exception.state == state and place in {_place(p) for p in exception.places}:
                jurisdiction = exception.jurisdiction
    for mac in policy.medicare.jurisdictions:
        if (jurisdiction is None and state in mac.states) or mac.jurisdiction == jurisdiction:
            return MedicareAnswer(
                jurisdiction=mac.jurisdiction, contractor=mac.contractor, state=state
            )
    return None


def mac_for_request(policy: Policy, request: PARequest) -> MedicareAnswer | None:
    """Appendix 2 for a request: the site of service if given, else the member's state."""
    if request.service.site_state:
        return mac_for(policy, request.service.site_state, request.service.site_county)
    return mac_for(policy, request.member.state, request.service.site_county)
