"""A decision in one step: read what it needs, evaluate, record, write what follows
(DESIGN.md, How data flows, 3-4).

The case's hot path: a decision once ran three activities the server dispatched
(the member's history, the evaluation, the decision row) and then a local one for
its notices and projection. ``decide_request`` is now the one local activity of a
first decision: the member's prior cycles (Section I, prior therapy), the engine's
decision (Section III), the decision row (append-only, keyed by its
``decision_key``: a retry records nothing twice, and answers with the decision on
record, so a workflow task lost after the write acts on the same decision and
writes its notices under the same keys) and — in the row's transaction, when the
workflow sends the case (``CaseWrites``) — the notices and the projection that
follow: ``writes_after`` takes the decision into the case with the same pure step
the workflow takes next (``CaseAggregate.on_evaluation``), and the result carries
their digest, which the workflow checks (``activities/case_writes.py``). It returns
the decision without its trace (the row holds it). ``decide_renewal`` evaluates
and records a renewal (Section IV); its notices follow through the outbox.

Each row keeps the facts it was decided on — the request (with the facts
merged so far; a renewal's: merged with the renewal's changed facts) and the
member's prior cycles counted — which ``priorauth policy impact`` re-decides.
The row stores the request without the member's identity
(``domain.decision_facts``, in ``CaseStore.record_decision``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from activities.case_writes import digest, next_projection, notice_of
from activities.evaluation import EvaluationActivities
from activities.models import (
    CaseEffectsInput,
    CaseWrites,
    DecideRenewalInput,
    DecideRequestInput,
    DecideRequestResult,
    DecisionRecordContext,
    MemberHistoryInput,
    RecordDecisionInput,
)
from activities.outbox import CaseOutbox
from activities.store import CaseStore
from domain.case.aggregate import CaseAggregate
from domain.case.asks import EvaluationAsk
from domain.case.effects import Notify, Project
from domain.case.track_terms import TrackTerms
from domain.decision import Decision, PolicyRef
from domain.renewal import RenewalDecision
from domain.request import PARequest


def _row(
    ctx: DecisionRecordContext,
    request: PARequest,
    determination: str,
    policy: PolicyRef,
    **fields: Any,
) -> RecordDecisionInput:
    return RecordDecisionInput(
        decision_key=ctx.decision_key,
        case_id=ctx.case_id,
        request_id=request.request_id,
        kind=ctx.kind,
        determination=determination,
        automated=True,
        actor=ctx.actor,
        policy_id=policy.id,
        policy_version=policy.version,
        urgency=request.urgency,
        line_of_business=request.line_of_business,
        received_at=request.received_at,
        decided_at=ctx.decided_at,
        request=request,
        **fields,
    )


def writes_after(
    case: CaseWrites,
    ask: EvaluationAsk,
    decision: Decision,
    terms: TrackTerms | None,
    prior_cycles: int,
) -> CaseEffectsInput:
    """What the case writes once it takes ``decision``: the same pure step the workflow
    takes next (``CaseAggregate.on_evaluation``), on a copy of the case as the decision
    found it, at the workflow's time; the notices it owed before, the new ones and its
    projection (when owed before, or changed by the decision)."""
    state = case.state  # the activity's own: decoded from its input for each attempt
    aggregate = CaseAggregate(state, case.config, case.member_ref).at(case.server_now)
    _, effects = aggregate.on_evaluation(ask, decision, terms, prior_cycles)
    notices = [*case.notices, *(notice_of(e, state) for e in effects if isinstance(e, Notify))]
    project = case.project or any(isinstance(e, Project) for e in effects)
    projection = next_projection(state, case.member_ref, aggregate.now) if project else None
    return CaseEffectsInput(notices=notices, projection=projection)


class CaseDecisions:
    """The engine's decisions on a case, each evaluated and recorded in one activity."""

    def __init__(
        self,
        evaluation: EvaluationActivities,
        store: CaseStore,
        pool: asyncpg.Pool,
        outbox: CaseOutbox,
    ) -> None:
        self._evaluation = evaluation
        self._store = store
        self._pool = pool
        self._outbox = outbox

    def activities(self) -> list[Callable[..., Any]]:
        return [self.decide_request, self.decide_renewal]

    @activity.defn
    async def decide_request(self, inp: DecideRequestInput) -> DecideRequestResult:
        """Section III on the request (after the member's prior cycles), recorded once;
        with ``inp.case``, the notices and the projection that follow, in one transaction."""
        evaluation = inp.evaluation
        async with self._pool.acquire() as conn:
            if inp.member_ref is not None:
                history = await self._store.member_history(
                    MemberHistoryInput(
                        member_ref=inp.member_ref,
                        exclude_case_id=inp.record.case_id,
                        policy_ref=evaluation.policy_ref,
                    ),
                    conn,
                )
                stated = evaluation.request.therapy.prior_blinatumomab_cycles or 0
                evaluation = evaluation.model_copy(
                    update={"prior_cycles": max(stated, history.prior_cycles)}
                )
            result = self._evaluation.evaluate_request(evaluation)
            decision: Decision = result.decision
            prior_cycles = evaluation.prior_cycles
            async with conn.transaction():
                recorded = await self._store.record_decision_in(
                    conn,
                    _row(
                        inp.record,
                        evaluation.request,
                        decision.determination,
                        decision.policy,
                        decision=decision,
                        prior_cycles=prior_cycles,
                    ),
                )
                if not recorded.inserted:
                    # A retry (the workflow task that ran this attempt was lost after the
                    # row, and maybe its notices, were written): the decision on record is
                    # the answer, so the case acts on it again, its notices under the same
                    # keys.
                    stored = await self._store.recorded_decision(inp.record.decision_key, conn)
                    if stored is not None:
                        decision, counted = stored
                        result = self._evaluation.terms_of(evaluation, decision)
                        prior_cycles = counted if counted is not None else prior_cycles
                decided = decision.model_copy(update={"trace": None})
                writes = (
                    writes_after(inp.case, inp.ask(), decided, result.terms, prior_cycles)
                    if inp.case is not None
                    else None
                )
                if writes is not None:
                    await self._outbox.write_in(conn, writes)
        if writes is not None:
            self._outbox.written(writes)
        return DecideRequestResult(
            decision=decided,
            terms=result.terms,
            prior_cycles=prior_cycles,
            written=digest(writes.notices, writes.projection) if writes is not None else None,
            server_now=inp.case.server_now if inp.case is not None else None,
        )

    @activity.defn
    async def decide_renewal(self, inp: DecideRenewalInput) -> RenewalDecision:
        """Section IV on the renewal, recorded once with its reasons and trace."""
        decision = self._evaluation.evaluate_renewal(inp.renewal, inp.policy_ref)
        await self._store.record_decision(
            _row(
                inp.record,
                inp.renewal.request,
                decision.determination,
                decision.policy,
                reasons=[r.model_dump(mode="json") for r in decision.reasons],
                trace=decision.trace.model_dump(mode="json") if decision.trace else None,
                prior_cycles=inp.prior_cycles,
            )
        )
        return decision.model_copy(update={"trace": None})
