"""Extending a review's decision clock (CMS-0057-F; issue #17).

A clinical reviewer may extend the decision clock of an open review **once**,
by **1 to 14 days**, with a **reason** (no member values: it goes to the
prescriber's notice like any decision's reason). The review's new deadline is
its current one plus the days; a second extension of the same review is
refused. Pure: the workflow holds the review's deadline and whether it was
extended, asks :func:`extend_review_clock`, then records the extension as a
decision row (kind ``review_extension``; migration 0007) and notifies the
prescriber. ``priorauth report metrics`` counts the requests approved after
their initial review was extended.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from domain.strict import STRICT_MODEL, JsonInt

MAX_EXTENSION_DAYS = 14
#: The decision row's kind and determination (the ``decisions`` table).
KIND = "review_extension"
DETERMINATION = "extended"


class ReviewExtensionRequest(BaseModel):
    """What a reviewer sends: the days to add and why (the reviewer is the credential)."""

    model_config = STRICT_MODEL

    days: JsonInt = Field(ge=1, le=MAX_EXTENSION_DAYS)
    reason: str = Field(min_length=1, max_length=500)


class ExtensionRefused(ValueError):
    """The review cannot be extended (already extended once, or no open review)."""


def extend_review_clock(due_at: datetime | None, days: int, *, already_extended: bool) -> datetime:
    """The review's new decision deadline: ``due_at`` + ``days`` (1..14), once per review."""
    if due_at is None:
        raise ExtensionRefused("no review with a decision clock is open")
    if already_extended:
        raise ExtensionRefused("this review's decision clock was already extended once")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ExtensionRefused(f"an extension is 1 to {MAX_EXTENSION_DAYS} days")
    return due_at + timedelta(days=days)


__all__ = [
    "DETERMINATION",
    "KIND",
    "MAX_EXTENSION_DAYS",
    "ExtensionRefused",
    "ReviewExtensionRequest",
    "extend_review_clock",
]
