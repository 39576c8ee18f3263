"""Actions on a live case, each one Temporal update: info, review, appeal, withdraw,
renewals and extensions.

Every answer is the update's result model. A case that refuses the action in
its current state answers ``accepted: false`` with the reason; the API turns
that into a 409 carrying the reason and the case's status. Who acts (the
reviewer, the requester) is the caller's credential, never the body.
"""

from __future__ import annotations

from typing import TypeVar

import structlog
from fastapi import APIRouter, Depends

from api import deps
from api.auth import Principal, Role, require
from api.bodies import (
    AppealBody,
    ExtensionBody,
    ProvideInfoBody,
    RenewalBody,
    ReviewBody,
    ReviewExtensionBody,
    WithdrawBody,
    as_message,
)
from api.errors import ApiError
from api.responses import UPDATE_CASE, errors
from cases.client import CaseClient
from workflows.messages import (
    AppealInput,
    AppealResult,
    ExtendPeriodInput,
    ExtendPeriodResult,
    ExtendReviewInput,
    ExtendReviewResult,
    ProvideInfoInput,
    ProvideInfoResult,
    RenewalRequestInput,
    RenewalResult,
    ReviewDecisionInput,
    ReviewDecisionResult,
    UpdateOutcome,
    WithdrawInput,
    WithdrawResult,
)

log = structlog.get_logger("api.actions")
router = APIRouter(prefix="/cases", tags=["case actions"])

R = TypeVar("R", bound=UpdateOutcome)

REFUSALS = errors(*UPDATE_CASE)


def refused(outcome: UpdateOutcome) -> ApiError:
    reason = outcome.reason or "the case cannot take this now"
    return ApiError(409, "refused", reason, case_status=outcome.status)


def _answer(case_id: str, action: str, outcome: R, who: Principal) -> R:
    """The case's answer, or a 409 with its reason when it did not take the action."""
    log.info(
        "case action",
        case=case_id,
        update=action,
        accepted=outcome.accepted,
        status=outcome.status,
        subject=who.subject,
    )
    if not outcome.accepted:
        raise refused(outcome)
    return outcome


@router.post("/{case_id}/info", response_model=ProvideInfoResult, responses=REFUSALS)
async def provide_info(
    body: ProvideInfoBody,
    who: Principal = Depends(require(Role.INTAKE)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> ProvideInfoResult:
    """Add the facts a pended case is waiting for; the request is evaluated again."""
    arg = as_message(body, ProvideInfoInput, requested_by=who.subject)
    return _answer(case_id, "provide_info", await cases.provide_info(case_id, arg), who)


@router.post("/{case_id}/review", response_model=ReviewDecisionResult, responses=REFUSALS)
async def decide_review(
    body: ReviewBody,
    who: Principal = Depends(require(Role.REVIEWER)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> ReviewDecisionResult:
    """A clinical reviewer approves, denies or pends the case under review.

    The reviewer is the caller; an appeal is decided by another subject than the denial's."""
    return await review_decision(cases, case_id, body, who)


async def review_decision(
    cases: CaseClient, case_id: str, body: ReviewBody, who: Principal
) -> ReviewDecisionResult:
    """The one path of a reviewer's decision, for this route and the reviewer workbench
    (api/workbench/): the reviewer is ``who``; a refusal is an ``ApiError`` (409), a
    failure to reach the case a ``cases.errors.CaseError``."""
    arg = as_message(body, ReviewDecisionInput, reviewer_id=who.subject)
    return _answer(case_id, "decide_review", await cases.decide_review(case_id, arg), who)


@router.post("/{case_id}/review/extension", response_model=ExtendReviewResult, responses=REFUSALS)
async def extend_review(
    body: ReviewExtensionBody,
    who: Principal = Depends(require(Role.REVIEWER)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> ExtendReviewResult:
    """A reviewer extends the open review's decision clock once, by 1 to 14 days, with a
    reason (CMS-0057-F); the prescriber is notified. 409: no open review, or already
    extended."""
    return await review_extension(cases, case_id, body, who)


async def review_extension(
    cases: CaseClient, case_id: str, body: ReviewExtensionBody, who: Principal
) -> ExtendReviewResult:
    """The one path of a review clock extension, for this route and the workbench."""
    arg = as_message(body, ExtendReviewInput, reviewer_id=who.subject)
    return _answer(case_id, "extend_review", await cases.extend_review(case_id, arg), who)


@router.post("/{case_id}/appeal", response_model=AppealResult, responses=REFUSALS)
async def appeal(
    body: AppealBody,
    who: Principal = Depends(require(Role.INTAKE)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> AppealResult:
    """Appeal a denial within the appeal window; another reviewer decides."""
    arg = as_message(body, AppealInput, requested_by=who.subject)
    return _answer(case_id, "appeal", await cases.appeal(case_id, arg), who)


@router.post("/{case_id}/withdraw", response_model=WithdrawResult, responses=REFUSALS)
async def withdraw(
    body: WithdrawBody | None = None,
    who: Principal = Depends(require(Role.INTAKE)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> WithdrawResult:
    """The requester withdraws the case; it ends as `withdrawn`."""
    arg = as_message(body or WithdrawBody(), WithdrawInput, requested_by=who.subject)
    return _answer(case_id, "withdraw", await cases.withdraw(case_id, arg), who)


@router.post("/{case_id}/renewals", response_model=RenewalResult, responses=REFUSALS)
async def request_renewal(
    body: RenewalBody | None = None,
    who: Principal = Depends(require(Role.INTAKE)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> RenewalResult:
    """Ask for the next period (Section IV); only the facts that changed are sent."""
    arg = as_message(body or RenewalBody(), RenewalRequestInput, requested_by=who.subject)
    return _answer(case_id, "request_renewal", await cases.request_renewal(case_id, arg), who)


@router.post("/{case_id}/extensions", response_model=ExtendPeriodResult, responses=REFUSALS)
async def extend_period(
    body: ExtensionBody,
    who: Principal = Depends(require(Role.REVIEWER)),
    case_id: str = Depends(deps.case_id),
    cases: CaseClient = Depends(deps.cases),
) -> ExtendPeriodResult:
    """A reviewer extends the current period when treatment was paused."""
    arg = as_message(body, ExtendPeriodInput, reviewer_id=who.subject)
    return _answer(case_id, "extend_period", await cases.extend_period(case_id, arg), who)
