"""The one client of a case: start, submit, send messages, ask, by typed method references.

Used by the API, ``priorauth dev --demo``, ``priorauth simulate``, the bench and
the tests. Every update and query goes through ``AuthorizationWorkflow``'s own
methods (``handle.execute_update(AuthorizationWorkflow.provide_info, ...)``), so
a renamed message or a changed model is a type error, not a runtime surprise;
every Temporal failure comes out as one of ``cases.errors`` (one mapping).

Submission (``submit``) is one update-with-start on ``first_decision``: the
case starts (id ``pa-<request_id>``, ``domain.case_id``) and the same call
returns its first determination, without polling. The id conflict policy is
USE_EXISTING, so a repeated request id answers with the same case.

Every new case runs under its drug's policy: the client picks it from the
policy registry by the request's ``service.hcpcs`` and day of receipt (the
version in effect then), sets ``CaseInput.policy_ref`` to its
``policy_id@version``, and starts the case with that policy's clocks
(``cases.config``, Settings overriding the policy's only where they are set).
A drug no policy covers, or a day after its last version's stated end, is bad
input (``InvalidCaseInput``), and nothing starts. Whether
this call started it (201, not 200; the SDK does not say) is in the answer:
the case counts the ``first_decision`` calls it receives, and the one that came
with its start is the first (``FirstDecisionResult.first_submission``). Only
when the answer does not come in time (a worker down or slow) is it read from
the case's input instead (its history's first event): each submission sends a
fresh token in it, and only the one that started the case finds its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import structlog
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from cases import errors
from cases.config import case_config, policy_for
from domain.case_id import case_id as case_id_of
from domain.claim import ClaimAnswer, ClaimLine
from domain.clinical_event import ClinicalEvent
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry, UnknownDrug
from domain.policy_versions import NoVersionInEffect
from domain.request import PARequest
from infra.member_ref import member_ref as member_ref_of
from infra.temporal import AUTH_RUN_OUT_UNTIL, AUTH_STATUS, MEMBER_REF
from workflows import ui
from workflows.authorization import AuthorizationWorkflow
from workflows.messages import (
    ALREADY_DECIDED,
    AppealInput,
    AppealResult,
    CaseConfig,
    CaseInput,
    CaseResult,
    CaseStatusView,
    ClaimLineMessage,
    ClinicalEventMessage,
    ClinicalEventResult,
    CyclesView,
    ExtendPeriodInput,
    ExtendPeriodResult,
    ExtendReviewInput,
    ExtendReviewResult,
    FirstDecisionResult,
    HistoryView,
    PeriodsView,
    ProvideInfoInput,
    ProvideInfoResult,
    RenewalRequestInput,
    RenewalResult,
    ReviewDecisionInput,
    ReviewDecisionResult,
    UnitsView,
    WithdrawInput,
    WithdrawResult,
)

if TYPE_CHECKING:
    from infra.settings import Settings

log = structlog.get_logger("cases.client")

W = AuthorizationWorkflow
A = TypeVar("A")
R = TypeVar("R")
CaseHandle = WorkflowHandle[AuthorizationWorkflow, CaseResult]

#: How long a caller waits for a case to answer an update or a query.
ANSWER_TIMEOUT = timedelta(seconds=30)
#: One attempt at a query (see ``_query``); a live case answers in milliseconds.
QUERY_ATTEMPT = timedelta(seconds=5)
#: How long a submission waits for the first decision; after it, the answer is the
#: started case as ``received`` (a slow or absent worker), never an error.
FIRST_DECISION_WAIT = timedelta(seconds=30)


@dataclass(frozen=True)
class StartedCase:
    """The case's handle, its id, and whether this call started it (False: it existed)."""

    handle: CaseHandle
    case_id: str
    created: bool


@dataclass(frozen=True)
class Submission:
    """A submitted request's case, whether this call started it, and its first decision.

    ``view`` is None when the case had not decided within the wait (it is ``received``).
    """

    case_id: str
    created: bool
    view: CaseStatusView | None

    @property
    def status(self) -> str:
        return self.view.status if self.view is not None else "received"


class CaseClient:
    """Cases on one task queue, each started under its drug's policy and that policy's clocks.

    ``config``: one ``CaseConfig`` for every new case (tests that fix the clocks);
    None: each case's clocks from its policy and ``settings`` (``cases.config``).
    ``policies``: the registry a request's drug is looked up in (default: the
    process's, ``domain/policies/``).
    """

    def __init__(
        self,
        client: Client,
        task_queue: str,
        config: CaseConfig | None = None,
        *,
        member_ref_key: str,
        settings: Settings | None = None,
        policies: PolicyRegistry | None = None,
        clock_anchor: datetime | None = None,
    ) -> None:
        if config is None and settings is None:
            raise ValueError("a case client needs the clocks: a CaseConfig or the Settings")
        self.client = client
        self.task_queue = task_queue
        self.config = config
        self.settings = settings
        self.policies = policies
        self.clock_anchor = clock_anchor
        self._member_ref_key = member_ref_key

    @classmethod
    def from_settings(
        cls,
        client: Client,
        settings: Settings,
        *,
        task_queue: str | None = None,
        clock_anchor: datetime | None = None,
        policies: PolicyRegistry | None = None,
    ) -> CaseClient:
        return cls(
            client,
            task_queue or settings.temporal_task_queue,
            member_ref_key=settings.member_ref_key,
            settings=settings,
            policies=policies,
            clock_anchor=clock_anchor,
        )

    def policy_for(self, request: PARequest) -> Policy:
        """The policy a new case for ``request`` runs under (its drug's, in effect on its
        day of receipt); a drug none covers or a day no version covers is bad input."""
        try:
            return policy_for(request, self.policies)
        except UnknownDrug as exc:
            message = f"no policy covers HCPCS {exc.hcpcs!r}"
            raise errors.InvalidCaseInput(
                message, [errors.FieldProblem("service.hcpcs", message)]
            ) from None
        except NoVersionInEffect:
            # The drug's last policy version on file ended before the day of receipt.
            message = "no version of the drug's policy is in effect on the day of receipt"
            raise errors.InvalidCaseInput(
                message, [errors.FieldProblem("received_at", message)]
            ) from None

    def config_for(self, request: PARequest, policy: Policy | None = None) -> CaseConfig:
        """The clocks a new case for ``request`` starts with: the client's fixed ones, else
        those of its policy (``policy``, default: ``policy_for(request)``) and Settings."""
        if self.config is not None:
            return self.config
        assert self.settings is not None  # __init__: one of the two
        return case_config(
            self.settings, policy or self.policy_for(request), clock_anchor=self.clock_anchor
        )

    def handle(self, case_id: str) -> CaseHandle:
        return self.client.get_workflow_handle_for(W.run, case_id)

    # ------------------------------------------------------------ starting

    def _start(
        self,
        request: PARequest,
        member_ref: str | None,
        config: CaseConfig | None,
        submitted_by: str | None,
    ) -> tuple[str, CaseInput, dict[str, Any]]:
        """The case id, the workflow's input and the start options of a new case."""
        policy = self.policy_for(request)
        ref = member_ref or member_ref_of(request.member.member_id, self._member_ref_key)
        inp = CaseInput(
            request=request,
            member_ref=ref,
            config=config or self.config_for(request, policy),
            submitted_by=submitted_by,
            policy_ref=policy.ref,
        )
        return (
            case_id_of(request.request_id),
            inp,
            {
                "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
                "search_attributes": TypedSearchAttributes(
                    [
                        SearchAttributePair(MEMBER_REF, ref),
                        SearchAttributePair(AUTH_STATUS, "received"),
                    ]
                ),
                "static_summary": ui.static_summary(request, policy),
                "static_details": ui.static_details(request, ref, policy),
            },
        )

    async def start(
        self,
        request: PARequest,
        *,
        config: CaseConfig | None = None,
        member_ref: str | None = None,
        submitted_by: str | None = None,
    ) -> StartedCase:
        """Start the case for ``request`` without waiting for its decision, or return the
        one already started under its id (``created=False``).

        ``member_ref`` is the member's keyed hash (default: computed with the client's
        key); ``submitted_by`` who submits it (the API: the credential's subject).
        """
        case_id, inp, options = self._start(request, member_ref, config, submitted_by)
        try:
            handle = await self.client.start_workflow(
                W.run,
                inp,
                id=case_id,
                task_queue=self.task_queue,
                **options,
            )
        except WorkflowAlreadyStartedError:
            return StartedCase(handle=self.handle(case_id), case_id=case_id, created=False)
        except RPCError as exc:
            raise errors.rpc_error(exc) from None
        return StartedCase(handle=handle, case_id=case_id, created=True)

    async def submit(
        self,
        request: PARequest,
        *,
        config: CaseConfig | None = None,
        member_ref: str | None = None,
        submitted_by: str | None = None,
        wait: timedelta | None = None,
    ) -> Submission:
        """Start the case (or find it) and return its first decision, in one call.

        Update-with-start on ``first_decision``: no polling, and one call — its
        answer says whether this submission started the case. A case that has not
        decided within ``wait`` (default FIRST_DECISION_WAIT) is answered as
        ``received`` (whether this call started it then read from the case's input); a case
        that has already ended answers with its status.
        """
        case_id, inp, options = self._start(request, member_ref, config, submitted_by)
        token = uuid.uuid4().hex
        start = WithStartWorkflowOperation(
            W.run,
            inp.model_copy(update={"submission": token}),
            id=case_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            **options,
        )
        try:
            async with asyncio.timeout((wait or FIRST_DECISION_WAIT).total_seconds()):
                answer = cast(  # its coroutine, typed: as in _update
                    FirstDecisionResult,
                    await self.client.execute_update_with_start_workflow(
                        W.first_decision,
                        start_workflow_operation=start,
                    ),
                )
            return Submission(case_id, answer.first_submission, answer.view)
        except WorkflowAlreadyStartedError:
            # The case has ended (its id may not be reused): it answers as it is.
            return Submission(case_id, False, await self.status(case_id))
        except RPCError as exc:
            if exc.status == RPCStatusCode.ALREADY_EXISTS:  # the same, from the test server
                return Submission(case_id, False, await self.status(case_id))
            raise errors.rpc_error(exc) from None
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            log.warning("no first decision in time", case=case_id)
        except WorkflowUpdateFailedError as exc:
            if errors.failure_message(exc.cause)[1] == ALREADY_DECIDED:
                # A repeat of a decided case: refused unwritten, answered as it stands.
                return Submission(case_id, False, await self.status(case_id))
            raise errors.update_failed(exc, "body") from None
        created = await self._started_by(case_id, token)
        if created is None:
            raise errors.CaseTimeout(case_id)
        return Submission(case_id, created, None)

    async def _started_by(self, case_id: str, token: str) -> bool | None:
        """Whether the submission holding ``token`` started the case (None: no case): the
        token in the input of the case's run (a continued run carries it on)."""
        try:
            async for event in self.handle(case_id).fetch_history_events(page_size=1):
                started = event.workflow_execution_started_event_attributes
                [inp] = await self.client.data_converter.decode(started.input.payloads, [CaseInput])
                return bool(cast(CaseInput, inp).submission == token)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise errors.rpc_error(exc) from None
        return None

    # ------------------------------------------------------------- updates

    async def adjudicate_claim(
        self, case_id: str, line: ClaimLine, *, sent_by: str | None = None
    ) -> ClaimAnswer:
        """Section II and POLICY.md, Claims: the case's answer to one claim line."""
        return await self._update(case_id, W.adjudicate_claim, ClaimLineMessage.sent(line, sent_by))

    async def record_clinical_event(
        self, case_id: str, event: ClinicalEvent, *, sent_by: str | None = None
    ) -> ClinicalEventResult:
        return await self._update(
            case_id, W.record_clinical_event, ClinicalEventMessage.sent(event, sent_by)
        )

    async def provide_info(self, case_id: str, inp: ProvideInfoInput) -> ProvideInfoResult:
        return await self._update(case_id, W.provide_info, inp, input_field="facts")

    async def decide_review(self, case_id: str, inp: ReviewDecisionInput) -> ReviewDecisionResult:
        return await self._update(case_id, W.decide_review, inp)

    async def appeal(self, case_id: str, inp: AppealInput) -> AppealResult:
        return await self._update(case_id, W.appeal, inp)

    async def withdraw(self, case_id: str, inp: WithdrawInput) -> WithdrawResult:
        return await self._update(case_id, W.withdraw, inp)

    async def request_renewal(self, case_id: str, inp: RenewalRequestInput) -> RenewalResult:
        return await self._update(case_id, W.request_renewal, inp, input_field="facts")

    async def extend_period(self, case_id: str, inp: ExtendPeriodInput) -> ExtendPeriodResult:
        return await self._update(case_id, W.extend_period, inp)

    async def extend_review(self, case_id: str, inp: ExtendReviewInput) -> ExtendReviewResult:
        """A reviewer extends the open review's decision clock (once, 1-14 days): a refusal
        is ``CaseRefused`` (409), bad days or reason ``InvalidCaseInput`` (422)."""
        return await self._update(case_id, W.extend_review, inp)

    async def _update(
        self,
        case_id: str,
        update: UpdateMethodMultiParam[[AuthorizationWorkflow, A], Awaitable[R]],
        arg: A,
        *,
        input_field: str = "body",
    ) -> R:
        """Run ``update`` and return its result; a refusal in the result is the caller's.

        ``input_field`` names the part of the message a validator's input error is
        about when the error names no field itself.
        """
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT.total_seconds()):
                # A named async update is typed as returning its coroutine (temporalio 1.35):
                # the answer is the handler's result.
                return cast(R, await self.handle(case_id).execute_update(update, arg))
        except WorkflowUpdateFailedError as exc:
            failure = errors.update_failed(exc, input_field)
            log.info("update rejected", case=case_id, failure=type(failure).__name__)
            raise failure from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise await self._missing(case_id) from None
            raise errors.rpc_error(exc) from None
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise errors.CaseTimeout(case_id) from None

    async def _missing(self, case_id: str) -> errors.CaseError:
        """Why a case did not take a message: it never existed, or it has ended."""
        try:
            desc = await self.handle(case_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return errors.CaseNotFound(case_id)
            return errors.rpc_error(exc)
        if desc.status == WorkflowExecutionStatus.RUNNING:
            log.warning("update not found on a running case", case=case_id)
            return errors.TemporalRefused("Temporal refused the call")
        attrs = desc.typed_search_attributes
        status = attrs.get(AUTH_STATUS) or (desc.status.name.lower() if desc.status else "closed")
        why = f"case {case_id} has ended ({status}) and takes no more messages"
        run_out = attrs.get(AUTH_RUN_OUT_UNTIL)
        if run_out is not None:
            why += (
                f": its claims run-out ended {run_out.date()} "
                "(the time limit for filing has expired, CARC 29)"
            )
        return errors.CaseEnded(case_id, status, why)

    # ------------------------------------------------------------- queries

    async def status(self, case_id: str) -> CaseStatusView:
        return await self._query(case_id, W.status)

    async def periods(self, case_id: str) -> PeriodsView:
        return await self._query(case_id, W.periods)

    async def cycles(self, case_id: str) -> CyclesView:
        return await self._query(case_id, W.cycles)

    async def units(self, case_id: str) -> UnitsView:
        return await self._query(case_id, W.units)

    async def history(self, case_id: str) -> HistoryView:
        return await self._query(case_id, W.history)

    async def request(self, case_id: str) -> PARequest:
        """The request as the case holds it now (facts received since merged in). PHI:
        for the roles that may see it (the reviewer workbench)."""
        return await self._query(case_id, W.request_facts)

    async def _query(self, case_id: str, query: Callable[[AuthorizationWorkflow], R]) -> R:
        """Ask the case; an attempt unanswered within QUERY_ATTEMPT is asked again.

        A case that has ended answers a query by replaying its history on a
        worker, which then evicts it; a query that arrives meanwhile can be dropped
        by the worker ("leftover buffered tasks when evicting run") and would go
        unanswered until the deadline. Queries change nothing, so asking again is safe.
        """
        handle = self.handle(case_id)
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT.total_seconds()):
                while True:
                    try:
                        async with asyncio.timeout(QUERY_ATTEMPT.total_seconds()):
                            return await handle.query(query)
                    except TimeoutError:
                        log.warning("query unanswered, asking again", case=case_id)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise errors.CaseNotFound(case_id) from None
            raise errors.rpc_error(exc) from None
        except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
            log.warning("query failed", case=case_id, error=type(exc).__name__)
            name = getattr(query, "__name__", "query")
            raise errors.CaseQueryFailed(f"case {case_id} could not answer {name}") from None
        except TimeoutError:
            raise errors.CaseTimeout(case_id) from None


async def case_histories(client: Client, case_id: str) -> list[WorkflowHistory]:
    """Every run of a case, first to last (continue-as-new chains runs), for replay and size."""
    found: list[WorkflowHistory] = []
    run_id: str | None = None  # the latest run first, then back along the chain
    while True:
        history = await client.get_workflow_handle(case_id, run_id=run_id).fetch_history()
        found.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return found[::-1]
