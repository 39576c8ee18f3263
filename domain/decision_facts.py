"""The facts a decision row keeps for policy impact analysis, without who the member is.

``priorauth policy impact`` re-decides each case's latest facts from PostgreSQL
(``decisions.request``, migration 0007). PostgreSQL holds no PHI (README,
Security: the member is a ``member_ref`` hash there; the request itself lives
only in the case's encrypted Temporal history), so a row keeps the request as
the criteria read it, with the member's identity taken out:

- no ``member.member_id``, ``first_name`` or ``last_name``;
- no ``member.date_of_birth``: instead ``member.age_at_period_start``, the
  member's whole age in years and months on the period's start
  (``PARequest.period_start``), the one day every age criterion is evaluated on
  (``domain.engine.choose``: ``EvalContext(start=...)``, ``domain.operators.age_on``).
  Ages over 89 are kept as 90 years (HIPAA Safe Harbor aggregates them); no
  criterion reads an age that high;
- ``member.state`` stays (a state is not an identifier; the Medicare contractor of
  a Part B request is found by it).

``facts_of(request)`` is the stored form; ``request_of(facts)`` the request the
engine re-decides, with a stand-in member id and a stand-in birth date that gives
the same whole years and months on the period's start, so every age criterion, of
this policy or of a draft, sees what it saw. The stand-in is built in memory for
the engine and never stored or shown.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.operators import age_on
from domain.request import PARequest
from domain.strict import RECORDED

#: The member fields a row never keeps.
IDENTITY_FIELDS = ("member_id", "first_name", "last_name", "date_of_birth")
#: HIPAA Safe Harbor: ages over 89 are one category, kept as 90.
AGE_CAP_YEARS = 90
#: Stands in for the member id when a stored row is re-decided (never stored).
STAND_IN_MEMBER_ID = "not-stored"


def age_at(dob: date, day: date) -> dict[str, int]:
    """Whole years and months of age on ``day`` (``age_on``), over 89 aggregated."""
    years, months = age_on(dob, day)
    if years >= AGE_CAP_YEARS:
        years, months = AGE_CAP_YEARS, AGE_CAP_YEARS * 12
    return {"years": years, "months": months}


def facts_of(request: PARequest) -> dict[str, Any]:
    """The request as a decision row keeps it: JSON, no member identity (module doc)."""
    data = request.model_dump(mode="json")
    dob = request.member.date_of_birth
    data["member"] = {
        "state": request.member.state,
        "age_at_period_start": None if dob is None else age_at(dob, request.period_start()),
    }
    return data


def stand_in_birth_date(years: int, months: int, day: date) -> date:
    """A birth date giving exactly ``(years, months)`` of age on ``day`` (``age_on``)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    guess = date(year, month + 1, 1)
    for offset in range(62):
        for candidate in (guess + timedelta(days=offset), guess - timedelta(days=offset)):
            if candidate <= day and age_on(candidate, day) == (years, months):
                return candidate
    raise ValueError(f"no birth date gives {years} years and {months} months on {day}")


def request_of(facts: dict[str, Any]) -> PARequest:
    """The request the engine re-decides from a stored row (``facts_of``'s form)."""
    data = dict(facts)
    member = dict(data.get("member") or {})
    age = member.pop("age_at_period_start", None)
    data["member"] = {**member, "member_id": STAND_IN_MEMBER_ID}
    request = PARequest.model_validate(data, context=RECORDED)
    if age is None:
        return request
    dob = stand_in_birth_date(int(age["years"]), int(age["months"]), request.period_start())
    member_model = request.member.model_copy(update={"date_of_birth": dob})
    return request.model_copy(update={"member": member_model})


__all__ = [
    "AGE_CAP_YEARS",
    "IDENTITY_FIELDS",
    "age_at",
    "facts_of",
    "request_of",
    "stand_in_birth_date",
]
