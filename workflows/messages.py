"""Every message of ``AuthorizationWorkflow``: one input and one result model per call.

The API, the CLI and ``priorauth simulate`` import these; the names are
stable and new fields always get defaults (old histories must still decode).
The workflow's own input and result are here; the messages of its updates,
signal and queries are the case's (``domain/case/messages.py``, re-exported),
and its clocks are ``domain/case/config.py``'s ``CaseConfig``.

Workflow: ``CaseInput`` -> ``CaseResult``.
"""

from __future__ import annotations

from pydantic import BaseModel

from domain.case.config import (
    LINES_OF_BUSINESS,
    TIMELY_FILING_FALLBACK_DAYS,
    CaseConfig,
    DecisionClock,
)
from domain.case.messages import *  # noqa: F403 (the case's messages, re-exported)
from domain.case.messages import __all__ as _case_messages
from domain.case.state import CaseState
from domain.request import PARequest


class CaseInput(BaseModel):
    """The workflow's one argument: the request, its member ref, the clocks, carried state."""

    request: PARequest
    member_ref: str
    config: CaseConfig
    state: CaseState | None = None
    # Who submitted the request (the credential's subject); None before identities.
    submitted_by: str | None = None
    # The case's policy, "policy_id@version" (domain.policy_registry), set by the case
    # client from the request's drug and day of receipt; None in cases started before:
    # the policy of the request's drug, else the Blincyto policy.
    policy_ref: str | None = None
    # The token of the submission that started the case (``CaseClient.submit``): read
    # back only when that submission's answer did not come in time.
    submission: str | None = None


class CaseResult(BaseModel):
    case_id: str
    request_id: str
    status: str
    track: str | None = None
    renewals_used: int = 0
    cycles_started: int = 0
    units_paid: int = 0
    reason: str = ""


__all__ = [
    *_case_messages,
    "LINES_OF_BUSINESS",
    "TIMELY_FILING_FALLBACK_DAYS",
    "CaseConfig",
    "CaseInput",
    "CaseResult",
    "DecisionClock",
]
