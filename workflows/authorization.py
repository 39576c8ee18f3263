"""AuthorizationWorkflow: one case, from the request to its end (DESIGN.md, How data flows).

Orchestration only. The case is a pure aggregate (``domain/case/``): this
class feeds it messages (updates, the signal) and due deadlines (one timer,
armed for the earliest of the case's deadline list), and runs the effects it
returns — decisions recorded, notices through the outbox, clinical events
recorded, search attributes, the PostgreSQL projection, continue-as-new — as
activities and commands. Where a status transition or a clock lives:
``domain/case/transitions.py`` and ``domain/case/deadlines.py``.

A first decision is one local activity (``CaseDecisions.decide_request``: the
member's history, the engine, the decision row, and — in the row's transaction
— the notices and the projection that follow, from the same pure step on a copy
of the case; the workflow checks their digest), and so is a renewal's; a claim
line is one local activity of the claims ledger. What any other message leaves
to write — its notices and the case's projection — is one more local activity
(``CaseOutbox.write_effects``: one transaction, the notices into the outbox),
in the same workflow task; the worker's outbox dispatcher delivers the notices.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

# Stateless code: passed through, imported once per worker instead of once per
# workflow run in the sandbox.
with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.case_writes import digest, next_projection, notice_of, period_terms
    from activities.claims_ledger import ClaimsLedger
    from activities.decisions import CaseDecisions
    from activities.evaluation import EvaluationActivities
    from activities.models import (
        AdjudicateClaimInput,
        AuthorizationProjection,
        CaseEffectsInput,
        CaseWrites,
        ClinicalEventInput,
        DecideRenewalInput,
        DecideRequestInput,
        DecisionRecordContext,
        GrantTermsInput,
        NotificationInput,
        RecordDecisionInput,
    )
    from activities.outbox import CaseOutbox
    from activities.store import CaseStore
    from domain.case.aggregate import CaseAggregate, InvalidReview, review_input_problems
    from domain.case.asks import TermsAsk
    from domain.case.deadlines import Deadline
    from domain.case.effects import (
        ContinueAsNew,
        Effect,
        EndRun,
        Notify,
        Project,
        RecordClinicalEvent,
        RecordDecision,
        SearchAttributes,
    )
    from domain.case.track_terms import TrackTerms
    from domain.claim import ClaimAnswer
    from domain.decision import Authorization
    from domain.facts import fact_problems, fixed_fact_problems, merge_facts
    from domain.request import PARequest
    from domain.review_extension import MAX_EXTENSION_DAYS
    from infra.temporal import (
        AUTH_ESCALATED,
        AUTH_PERIOD_END,
        AUTH_RENEWALS_USED,
        AUTH_RUN_OUT_UNTIL,
        AUTH_STATUS,
        AUTH_TRACK,
        MEMBER_REF,
    )
    from workflows import ui
    from workflows.messages import (
        ALREADY_DECIDED,
        AppealInput,
        AppealResult,
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
    from workflows.options import LOCAL_RETRY_THRESHOLD, RETRY, SHORT


def _invalid(problems: list[dict[str, str]], kind: str = "InvalidInput") -> ApplicationError:
    """A validator's (or handler's) refusal: the fields and why, never a value. InvalidInput
    is the caller's 422; Conflict (409) is input the schema allows but the case does not
    take (terms beyond its grant, terms or facts that do not go with the determination)."""
    return ApplicationError(
        "; ".join(f"{p['field']}: {p['message']}" for p in problems),
        {"errors": problems},
        type=kind,
        non_retryable=True,
    )


def _refuse_facts(request: PARequest, facts: dict[str, Any]) -> None:
    """A validator's refusal of facts that do not fit the request: which field and why,
    never the value (it may be PHI, and the message reaches the caller's 422)."""
    problems = fixed_fact_problems(facts)
    if not problems:
        try:
            merge_facts(request, facts)
        except ValidationError as exc:
            # Only the facts are judged: what the case already holds was accepted by its rules.
            problems = fact_problems(exc, facts)
    if problems:
        # from None: pydantic's own message (which quotes the input) is no cause to send on.
        raise ApplicationError(
            "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            {"errors": problems},
            type="InvalidInput",
            non_retryable=True,
        ) from None


@workflow.defn
class AuthorizationWorkflow:
    """One prior-authorization case, as DESIGN.md describes it."""

    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self._input = inp
        if inp.state is not None:
            self.case = CaseAggregate.continued(inp.state, inp.config, inp.member_ref)
        else:
            self.case = CaseAggregate.new(
                workflow.info().workflow_id,
                inp.request,
                inp.config,
                inp.member_ref,
                inp.policy_ref,
            )
        self._lock = asyncio.Lock()
        self._wake = False
        self._continue = False
        self._project_pending = False
        self._timer: asyncio.Task[None] | None = None
        self._armed: tuple[datetime, str] | None = None
        self._timer_fired = False
        self._outbox: list[NotificationInput] = []
        # Search attributes set since the last upsert, by name: one upsert command per
        # turn of the run loop, however many effects set them.
        self._attributes: dict[str, SearchAttributeUpdate[Any]] = {}
        self._details_stale = False

    def _at(self) -> CaseAggregate:
        """The case, at the current business time."""
        return self.case.at(workflow.now())

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        if inp.state is None:
            async with self._lock:
                await self._apply(self._at().receive(inp.submitted_by))
                await self._evaluate("initial", inp.submitted_by)
        else:
            await self._apply(self._at().resume())
        while True:
            async with self._lock:
                await self._apply(self._at().on_due(), wake=False)
            self._show()
            if self._project_pending or self._outbox:
                await self._write_effects()
            if self.case.finished:
                break
            if self._continue or self._history_is_long():
                await self._continue_as_new()
            await self._wait()
        self._disarm()
        await workflow.wait_condition(self._quiet)
        self._show()
        self._project_pending = True
        await self._write_effects()
        s = self.case.s
        return CaseResult(
            case_id=s.case_id,
            request_id=s.request.request_id,
            status=s.status,
            track=s.track,
            renewals_used=s.renewals_used,
            cycles_started=s.cycles_started,
            units_paid=s.units_paid,
            reason=s.last_reason,
        )

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.config.continue_as_new_after_events
        )

    async def _continue_as_new(self) -> None:
        self._disarm()
        await workflow.wait_condition(self._quiet)
        if self.case.finished:
            return
        self._show()
        if self._project_pending or self._outbox:
            await self._write_effects()
        self._continue = False
        workflow.continue_as_new(self._input.model_copy(update={"state": self.case.s}))

    # ------------------------------------------------------------------ the one timer

    async def _wait(self) -> None:
        """Wait for a message, the next deadline, the end or a continue-as-new; the timer
        is re-armed only when the next deadline changes (one timer per case)."""
        nxt = self.case.next_deadline()
        armed = (nxt.at, nxt.label) if nxt else None
        if armed != self._armed:
            self._disarm()
            if nxt is not None:
                self._armed = armed
                self._timer = asyncio.create_task(self._sleep_until(nxt))
        await workflow.wait_condition(
            lambda: self._wake or self._timer_fired or self.case.finished or self._continue
        )
        self._wake = False
        if self._timer_fired:
            self._timer_fired = False
            self._armed = None
            self._timer = None

    async def _sleep_until(self, deadline: Deadline) -> None:
        await workflow.sleep(self._at().timer_delay(deadline), summary=deadline.label)
        self._timer_fired = True

    def _disarm(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = None
        self._armed = None
        self._timer_fired = False

    # ------------------------------------------------------------------ effects

    async def _apply(self, effects: list[Effect], *, wake: bool = True) -> None:
        """Run the case's effects in order; then show the case and (for a message: its
        clocks may have changed) wake the run loop."""
        for effect in effects:
            if isinstance(effect, RecordDecision):
                await self._record_decision(effect)
            elif isinstance(effect, Notify):
                self._queue_notice(effect)
            elif isinstance(effect, RecordClinicalEvent):
                await self._record_clinical_event(effect)
            elif isinstance(effect, SearchAttributes):
                self._upsert(effect)
            elif isinstance(effect, Project):
                self._project_pending = True
            elif isinstance(effect, ContinueAsNew):
                self._continue = True
            elif isinstance(effect, EndRun):
                pass  # the case says so (``finished``); the run loop ends the run
        self._details_stale = True
        self._wake = self._wake or wake

    def _show(self) -> None:
        """What the effects since the last turn of the run loop changed, shown once: the
        search attributes (one upsert) and the case's current details."""
        if self._attributes:
            workflow.upsert_search_attributes(list(self._attributes.values()))
            self._attributes = {}
        if self._details_stale:
            self._details_stale = False
            workflow.set_current_details(
                ui.current_details(self.case.s, self.case.awaiting(), closed=self.case.finished)
            )

    async def _record_decision(self, effect: RecordDecision) -> None:
        s = self.case.s
        # Local: keyed and append-only, so a retried attempt records nothing twice.
        await workflow.execute_local_activity_method(
            CaseStore.record_decision,
            RecordDecisionInput(
                decision_key=effect.decision_key,
                case_id=s.case_id,
                request_id=s.request.request_id,
                kind=effect.kind,  # type: ignore[arg-type]  # the aggregate's kinds
                determination=effect.determination,
                automated=effect.automated,
                reviewer_id=effect.reviewer_id,
                actor=effect.actor,
                rationale=effect.rationale,
                decision=effect.decision,
                reasons=effect.reasons,
                trace=effect.trace,
                trace_from_key=effect.trace_from_key,
                policy_id=effect.policy_id,
                policy_version=effect.policy_version,
                urgency=s.request.urgency,
                line_of_business=s.request.line_of_business,
                received_at=s.request.received_at,
                decided_at=effect.decided_at,
                # The facts it was decided on (the row keeps them without the member's
                # identity: domain.decision_facts); policy impact re-decides them.
                request=s.request,
                prior_cycles=s.prior_cycles,
                granted=effect.granted,
                extends_review=effect.extends_review,
                due_at=effect.due_at,
            ),
            start_to_close_timeout=SHORT,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
            retry_policy=RETRY,
            summary=f"record {effect.kind} decision: {effect.determination}",
        )

    async def _record_clinical_event(self, effect: RecordClinicalEvent) -> None:
        event = effect.event
        await workflow.execute_activity_method(
            CaseStore.record_clinical_event,
            ClinicalEventInput(
                case_id=self.case.s.case_id,
                member_ref=self._input.member_ref,
                event=event,
                received_at=effect.received_at,
                sent_by=effect.sent_by,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"clinical event {event.event_id} ({event.type})",
        )

    def _upsert(self, effect: SearchAttributes) -> None:
        """Kept until the run loop's next turn (``_show``); a later value of the same
        attribute replaces an earlier one."""
        updates: list[SearchAttributeUpdate[Any]] = []
        if effect.member_ref is not None:
            updates.append(MEMBER_REF.value_set(effect.member_ref))
        if effect.status is not None:
            updates.append(AUTH_STATUS.value_set(effect.status))
        if effect.escalated is not None:
            updates.append(AUTH_ESCALATED.value_set(effect.escalated))
        if effect.track is not None:
            updates.append(AUTH_TRACK.value_set(effect.track))
        if effect.period_end is not None:
            updates.append(AUTH_PERIOD_END.value_set(effect.period_end))
        if effect.renewals_used is not None:
            updates.append(AUTH_RENEWALS_USED.value_set(effect.renewals_used))
        if effect.run_out_until is not None:
            # The day at 00:00 UTC: the attribute's date reads back as the run-out's last day.
            at = datetime.combine(effect.run_out_until, time(), tzinfo=UTC)
            updates.append(AUTH_RUN_OUT_UNTIL.value_set(at))
        for update in updates:
            self._attributes[update.key.name] = update

    def _queue_notice(self, effect: Notify) -> None:
        """Notices are written to the outbox after the message, with the projection, in
        one local activity (``_write_effects``; a decision's: with the decision row); the
        worker's dispatcher delivers them in order. The outbox is unique on the key."""
        self._outbox.append(notice_of(effect, self.case.s))

    def _quiet(self) -> bool:
        """No handler running: the run may end or continue as new (after its writes)."""
        return workflow.all_handlers_finished()

    def _projection(self) -> AuthorizationProjection:
        return next_projection(self.case.s, self._input.member_ref, self.case.now)

    async def _write_effects(self) -> None:
        """The notices queued and the projection (if due), in one local activity and one
        transaction: keyed and versioned, so a retried attempt writes nothing twice."""
        notices, self._outbox = self._outbox, []
        projection = self._projection() if self._project_pending else None
        self._project_pending = False
        # No summary on the hot path's local activities: each is one more payload the
        # worker converts through the sandbox, per workflow task (the activity's name
        # says what it does).
        await workflow.execute_local_activity_method(
            CaseOutbox.write_effects,
            CaseEffectsInput(notices=notices, projection=projection),
            start_to_close_timeout=SHORT,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
            retry_policy=RETRY,
        )

    # ------------------------------------------------------------------ asks

    async def _evaluate(self, kind: str, actor: str | None) -> str:
        """The engine's decision, evaluated and recorded in one local activity — which
        also writes the notices and the projection that follow (``CaseWrites``)."""
        ask = self._at().evaluation(kind, actor)
        writes = CaseWrites(
            state=self.case.s,
            config=self._input.config,
            member_ref=self._input.member_ref,
            server_now=workflow.now(),
            notices=list(self._outbox),
            project=self._project_pending,
        )
        try:
            result = await workflow.execute_local_activity_method(
                CaseDecisions.decide_request,
                DecideRequestInput.of(ask, self.case.s.case_id, self._input.member_ref, writes),
                start_to_close_timeout=SHORT,
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                retry_policy=RETRY,
            )
        except ActivityError as err:
            det, effects = self._at().on_evaluation(ask, None, failure=str(err.cause or err))
            await self._apply(effects)
            return det
        if result.written is None or result.server_now is None:
            # A history recorded before the decision wrote what follows it: the case
            # writes its notices and projection itself after (``_write_effects``).
            det, effects = self._at().on_evaluation(
                ask, result.decision, result.terms, result.prior_cycles
            )
            await self._apply(effects)
            return det
        # The case takes the decision as the activity did: at the time recorded with it
        # (a replay may see another workflow time here, e.g. after a query-only task).
        case = self.case.at(result.server_now)
        det, effects = case.on_evaluation(ask, result.decision, result.terms, result.prior_cycles)
        await self._apply(effects)
        self._take_written(result.written)
        return det

    def _take_written(self, written: str) -> None:
        """The decision's activity wrote the notices and projection the case now owes:
        they are done, whatever the digest says — no command depends on it, so a later
        change to what a notice says can never make a recorded history replay
        differently. The digest is checked and a difference logged (none is expected:
        a local activity runs this worker's code, on the case as it was asked, at the
        recorded time); the next message's projection replaces this one."""
        projection = self._projection() if self._project_pending else None
        if digest(self._outbox, projection) != written:
            workflow.logger.warning(
                "the decision's writes differ from the case's",
                extra={"case": self.case.s.case_id},
            )
        self._outbox = []
        self._project_pending = False

    async def _renew(self, facts: dict[str, Any], actor: str | None) -> RenewalResult:
        """Section IV: decided on the case's facts with the changed facts merged over them."""
        ask = self._at().renewal(facts, actor)
        if isinstance(ask, RenewalResult):
            return ask
        decision = await workflow.execute_local_activity_method(
            CaseDecisions.decide_renewal,
            DecideRenewalInput(
                renewal=ask.renewal,
                record=DecisionRecordContext(
                    decision_key=ask.decision_key,
                    case_id=self.case.s.case_id,
                    kind="renewal",
                    actor=ask.actor,
                    decided_at=ask.decided_at,
                ),
                prior_cycles=self.case.s.prior_cycles,
                policy_ref=ask.policy_ref,
            ),
            start_to_close_timeout=SHORT,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
            retry_policy=RETRY,
            summary=f"decide renewal {self.case.s.renewals_used + 1} (Section IV)",
        )
        result, effects = self._at().on_renewal_decision(ask, decision)
        await self._apply(effects)
        return result

    async def _track_terms(self, ask: TermsAsk) -> tuple[str, Authorization, TrackTerms] | None:
        """The period of the track a reviewer approves on (Section I); None if there is none."""
        try:
            grant = await workflow.execute_local_activity_method(
                EvaluationActivities.grant_terms,
                GrantTermsInput(
                    request=ask.request,
                    track=ask.track,
                    as_of=ask.as_of,
                    prior_cycles=ask.prior_cycles,
                    policy_ref=ask.policy_ref,
                ),
                start_to_close_timeout=SHORT,
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary=f"terms of track {ask.track} (Section I)",
            )
        except ActivityError:
            return None
        return ask.track, grant.authorization, grant.terms

    # ------------------------------------------------------------------ updates

    @workflow.update(name="first_decision")
    async def first_decision(self) -> FirstDecisionResult:
        """The case's first determination, once known (the client's update-with-start),
        and whether this is the first submission the case received.

        Counted on entry, before the wait: the update that arrived with the start is
        delivered first (the server hands a task's updates over in the order it
        admitted them, and this SDK enters their handlers in that order), so it and
        only it is answered as the first; the count is in the case's state, so a
        repeat after a continue-as-new is still a repeat.
        """
        first = self.case.submission()
        await workflow.wait_condition(lambda: self.case.s.status != "received")
        return FirstDecisionResult(view=self.case.status_view(), first_submission=first)

    @first_decision.validator
    def _validate_first_decision(self) -> None:
        """A repeat of a case already decided is refused before it is written: a refused
        update leaves no event, so repeats never grow the case's history (the client then
        answers the repeat from the status query). A repeat while the first decision is
        still being taken is accepted and waits for it like the first."""
        if self.case.s.submissions > 0 and self.case.s.status != "received":
            raise ApplicationError(
                "the case has already decided", type=ALREADY_DECIDED, non_retryable=True
            )

    @workflow.update(name="adjudicate_claim")
    async def adjudicate_claim(self, message: ClaimLineMessage) -> ClaimAnswer:
        """Section II and POLICY.md, Claims: the ledger answers; idempotent on claim id + line."""
        line = message.claim_line()  # the sender is not part of the line's identity
        received_on = self._at().today  # when the line arrives (timely filing), not when run
        # A line that reaches the case in its first workflow task (handlers enter before
        # the run) is answered after the first decision, not against a case with none.
        await workflow.wait_condition(lambda: self.case.s.status != "received")
        async with self._lock:
            earlier, seen = self.case.earlier_answer(line)
            if earlier is not None:
                return earlier  # the same line again: the first answer, nothing counted
            s = self.case.s
            # One local activity: the hot path (hundreds of lines a case); the ledger is
            # idempotent and writes the case's units_paid in the line's own transaction.
            answer = await workflow.execute_local_activity_method(
                ClaimsLedger.adjudicate_claim,
                AdjudicateClaimInput(
                    case_id=s.case_id,
                    member_ref=self._input.member_ref,
                    line=line,
                    periods=period_terms(s),
                    death_date=s.death_date,
                    discontinued_date=s.discontinued_date,
                    withdrawn_on=s.withdrawn_on,
                    received_on=received_on,
                    line_of_business=s.request.line_of_business,
                    timely_filing_days=self.case.timely_filing_days(),
                    sent_by=message.sent_by,
                    policy_ref=s.policy_ref,
                ),
                start_to_close_timeout=SHORT,
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                retry_policy=RETRY,
            )
            await self._apply(self._at().on_claim_answer(line, answer, repeated_id=seen))
            return answer

    @adjudicate_claim.validator
    def _validate_claim(self, message: ClaimLineMessage) -> None:
        problem = self.case.claim_problem(message)
        if problem is not None:
            raise ValueError(problem)

    @workflow.update(name="provide_info")
    async def provide_info(self, inp: ProvideInfoInput) -> ProvideInfoResult:
        """Facts that settle a pend (Section III, rule 3), or that a reviewer may use."""
        actor = inp.requested_by or inp.source
        async with self._lock:
            route = self._at().info_route(inp)
            if isinstance(route, ProvideInfoResult):
                return route
            if route == "renewal":
                facts = self.case.facts_for_pended_renewal(inp)
                return self.case.renewal_info_result(await self._renew(facts, actor))
            self.case.take_facts(inp)
            return self.case.info_result(await self._evaluate("info", actor))

    @provide_info.validator
    def _validate_info(self, inp: ProvideInfoInput) -> None:
        _refuse_facts(self.case.s.request, inp.facts)

    @workflow.update(name="decide_review")
    async def decide_review(self, inp: ReviewDecisionInput) -> ReviewDecisionResult:
        """A reviewer decides the open review: initial, appeal (another reviewer) or renewal."""
        async with self._lock:
            ask = self._at().review_terms(inp)
            granted = await self._track_terms(ask) if isinstance(ask, TermsAsk) else None
            try:
                result, effects = self._at().decide_review(inp, granted)
            except InvalidReview as err:  # terms beyond the named track's: nothing changed
                raise _invalid(err.problems, "Conflict") from None
            await self._apply(effects)
            return result

    @decide_review.validator
    def _validate_review(self, inp: ReviewDecisionInput) -> None:
        """Refused before it reaches history: terms on a non-approval, facts that are no
        field of the request, terms beyond the engine's grant (Sections I, II)."""
        problems = review_input_problems(inp)
        if not problems:
            problems = self.case.review_terms_problems(inp)
        if problems:
            raise _invalid(problems, "Conflict")

    @workflow.update(name="extend_review")
    async def extend_review(self, inp: ExtendReviewInput) -> ExtendReviewResult:
        """A reviewer extends the open review's decision clock once, by 1 to 14 days."""
        async with self._lock:
            result, effects = self._at().extend_review(inp)
            await self._apply(effects)
            return result

    @extend_review.validator
    def _validate_extend_review(self, inp: ExtendReviewInput) -> None:
        """422 for bad days or no reason; 409 (Conflict) with no open review or a second
        extension of the same review (domain/review_extension.py)."""
        problems = []
        if not 1 <= inp.days <= MAX_EXTENSION_DAYS:
            problems.append({"field": "days", "message": f"is 1 to {MAX_EXTENSION_DAYS}"})
        if not inp.reason.strip():
            problems.append({"field": "reason", "message": "is required"})
        if problems:
            raise _invalid(problems)
        refusal = self.case.extension_refusal()
        if refusal is not None:
            raise ApplicationError(refusal, type="Conflict", non_retryable=True)

    @workflow.update(name="request_renewal")
    async def request_renewal(self, inp: RenewalRequestInput) -> RenewalResult:
        """Section IV: decided on the case's facts with the changed facts merged over them."""
        async with self._lock:
            return await self._renew(inp.facts, inp.requested_by)

    @request_renewal.validator
    def _validate_renewal(self, inp: RenewalRequestInput) -> None:
        _refuse_facts(self.case.s.request, inp.facts)

    @workflow.update(name="extend_period")
    async def extend_period(self, inp: ExtendPeriodInput) -> ExtendPeriodResult:
        """A reviewer extends the current period when treatment was paused (X12 extension)."""
        async with self._lock:
            result, effects = self._at().extend_period(inp)
            await self._apply(effects)
            return result

    @workflow.update(name="appeal")
    async def appeal(self, inp: AppealInput) -> AppealResult:
        """An appeal of a denial, inside the window by line of business; another reviewer."""
        async with self._lock:
            result, effects = self._at().appeal(inp)
            await self._apply(effects)
            return result

    @workflow.update(name="withdraw")
    async def withdraw(self, inp: WithdrawInput) -> WithdrawResult:
        """The requester withdraws the case; the withdrawal is a decision row naming them."""
        async with self._lock:
            result, effects = self._at().withdraw(inp)
            await self._apply(effects)
            return result

    @workflow.update(name="record_clinical_event")
    async def record_clinical_event(self, message: ClinicalEventMessage) -> ClinicalEventResult:
        """A clinical event (CONTRACT.md); a repeated event id is answered and ignored."""
        duplicate = self._at().duplicate_event(message.clinical_event())
        if duplicate is not None:
            return duplicate
        async with self._lock:
            result, effects = self._at().record_event(message)
            await self._apply(effects)
            return result

    @record_clinical_event.validator
    def _validate_clinical_event(self, message: ClinicalEventMessage) -> None:
        """Refused before it reaches history: a date out of range, a bad retraction."""
        if message.event_id in self.case.s.events_seen:
            return
        problem = self._at().event_problem(message.clinical_event())
        if problem is not None:
            raise ApplicationError(
                problem.message,
                {"errors": [{"field": problem.field, "message": problem.message}]},
                type="InvalidInput" if problem.kind == "invalid" else "Conflict",
                non_retryable=True,
            )

    # ------------------------------------------------------------------ signal

    @workflow.signal(name="clinical_event")
    async def clinical_event(self, message: ClinicalEventMessage) -> None:
        """The event as a signal, for cases that recorded it: ``record_clinical_event`` now.

        Repeated event ids are ignored; an event the update would refuse is
        dropped with a log line (a signal has no one to answer).
        """
        async with self._lock:
            problem, effects = self._at().signalled_event(message)
            if problem is not None:
                workflow.logger.warning(
                    "clinical event dropped: %s (%s)",
                    problem.message,
                    problem.field,
                    extra={"case": self.case.s.case_id, "event_id": message.event_id},
                )
            await self._apply(effects)

    # ------------------------------------------------------------------ queries

    @workflow.query(name="status")
    def status(self) -> CaseStatusView:
        return self.case.status_view()

    @workflow.query(name="periods")
    def periods(self) -> PeriodsView:
        return self.case.periods_view()

    @workflow.query(name="cycles")
    def cycles(self) -> CyclesView:
        return self.case.cycles_view()

    @workflow.query(name="units")
    def units(self) -> UnitsView:
        return self.case.units_view()

    @workflow.query(name="history")
    def history(self) -> HistoryView:
        return self.case.history_view()

    @workflow.query(name="request")
    def request_facts(self) -> PARequest:
        """The request as the case holds it now (facts received since merged in).

        PHI: the reviewer workbench shows it to the roles that may see PHI only."""
        return self.case.s.request


__all__ = ["AuthorizationWorkflow"]
