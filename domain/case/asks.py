"""What a case needs answered before it can go on: an evaluation, a renewal, a track's terms.

Not effects (those run and are done): the workflow runs the ask as an
activity and feeds the answer back to ``CaseAggregate`` (``on_evaluation``,
``on_renewal_decision``, ``decide_review``). An evaluation is recorded by the
same activity that makes it, under ``decision_key`` (idempotent), so the
decision is known in one step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.renewal import RenewalInput
from domain.request import PARequest


@dataclass(frozen=True)
class EvaluationAsk:
    """Evaluate the request (Section III) and record the decision under ``decision_key``.

    ``read_history``: first take the member's prior cycles from the system's record
    (Section I, prior therapy) — the larger of those and the request's counts.
    """

    kind: str
    decision_key: str
    request: PARequest
    as_of: date
    prior_cycles: int
    allow_automatic_denial: bool
    read_history: bool
    actor: str | None
    decided_at: datetime
    policy_ref: str | None


@dataclass(frozen=True)
class RenewalAsk:
    """Evaluate a renewal (Section IV) and record it under ``decision_key``."""

    decision_key: str
    renewal: RenewalInput
    facts: dict[str, Any]
    actor: str | None
    decided_at: datetime
    policy_ref: str | None


@dataclass(frozen=True)
class TermsAsk:
    """The initial period of ``track`` a reviewer approves on (Section I), after prior cycles."""

    track: str
    request: PARequest
    as_of: date
    prior_cycles: int
    policy_ref: str | None
