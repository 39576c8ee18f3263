"""Request bodies of the case actions: what the caller states, made strict.

Each body is the update's caller part (workflows/messages.py: ``ReviewDecision``,
``ProvideInfo`` …) with unknown fields refused, so a misspelt field is a 422
naming it rather than silently ignored. No body names who acts: a
``reviewer_id``, ``requested_by`` or ``source`` is an unknown field (422). The
route builds the workflow's input from the body and the caller's credential
(``as_message``), so the reviewer of a decision, the requester of an appeal
and the like are always the token's subject (README, Security). ``facts`` are read
as the request's own fields (api/facts.py) rather than as any object.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.facts import InfoFacts, RequestFacts
from domain.strict import IsoDate, standard_bounds
from workflows.messages import (
    Appeal,
    ExtendPeriod,
    ExtendReview,
    ProvideInfo,
    RenewalRequest,
    ReviewDecision,
    Withdraw,
)

_STRICT = ConfigDict(extra="forbid")

M = TypeVar("M", bound=BaseModel)


class ProvideInfoBody(ProvideInfo):
    """Facts that settle a pend: dotted request paths (`diagnosis.mrd_percent`) to values."""

    model_config = _STRICT
    facts: InfoFacts  # type: ignore[assignment]


class ReviewBody(ReviewDecision):
    """A clinical reviewer's decision on the review the case is waiting for.

    ``period_end`` and ``authorized_units`` (approve only) grant less than the engine's
    period or units, never more than the policy allows (Sections I, II);
    ``missing_facts`` (pend only) names the request's fields the reviewer needs
    (dotted paths, CONTRACT.md). Either needs a ``rationale``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=standard_bounds)
    rationale: str = Field(default="", max_length=2000)
    period_end: IsoDate | None = None
    missing_facts: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )


class AppealBody(Appeal):
    """An appeal of a denial, within the line of business's appeal window."""

    model_config = _STRICT


class WithdrawBody(Withdraw):
    """The requester withdraws the case."""

    model_config = _STRICT


class RenewalBody(RenewalRequest):
    """A renewal request (Section IV): only the facts that changed."""

    model_config = _STRICT
    facts: RequestFacts = Field(default_factory=RequestFacts)  # type: ignore[assignment]


class ReviewExtensionBody(ExtendReview):
    """A reviewer extends the open review's decision clock once: 1 to 14 days, a reason."""

    model_config = _STRICT
    # Not only blanks, and no NUL (api/limits.py), as the schema states it.
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\u0000]*[^\s\u0000][^\u0000]*$")


class ExtensionBody(ExtendPeriod):
    """A reviewer extends the current period (X12 extension) with a rationale."""

    model_config = _STRICT


def as_message(body: BaseModel, message_type: type[M], **actor: Any) -> M:
    """The workflow's own model for ``body``, with who acts (from the credential) added.

    Only the fields sent, by their wire names: facts keep their dotted keys.
    """
    data = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return message_type.model_validate({**data, **actor})
