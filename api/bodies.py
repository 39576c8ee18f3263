"""Request bodies of the case actions: the workflow's own message models, made strict.

Each body is the update's input model (workflows/messages.py) with unknown
fields refused, so a misspelt field is a 422 naming it rather than silently
ignored. Routes hand the workflow the parent model, unchanged.
"""

from __future__ import annotations

from pydantic import ConfigDict

from workflows.messages import (
    AppealInput,
    ExtendPeriodInput,
    ProvideInfoInput,
    RenewalRequestInput,
    ReviewDecisionInput,
    WithdrawInput,
)

_STRICT = ConfigDict(extra="forbid")


class ProvideInfoBody(ProvideInfoInput):
    """Facts that settle a pend: dotted request paths (`diagnosis.mrd_percent`) to values."""

    model_config = _STRICT


class ReviewBody(ReviewDecisionInput):
    """A clinical reviewer's decision on the review the case is waiting for."""

    model_config = _STRICT


class AppealBody(AppealInput):
    """An appeal of a denial, within the line of business's appeal window."""

    model_config = _STRICT


class WithdrawBody(WithdrawInput):
    """The requester withdraws the case."""

    model_config = _STRICT


class RenewalBody(RenewalRequestInput):
    """A renewal request (Section IV): only the facts that changed."""

    model_config = _STRICT


class ExtensionBody(ExtendPeriodInput):
    """A reviewer extends the current period (X12 extension) with a rationale."""

    model_config = _STRICT


def as_message(body, message_type):
    """The workflow's own model for ``body`` (same fields, no strictness attached)."""
    return message_type.model_validate(body.model_dump())
