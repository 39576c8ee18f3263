"""A decision in one step: read what it needs, evaluate, record (DESIGN.md, How data flows, 3-4).

The case's hot path: before, a decision ran three activities the server
dispatched (the member's history, the evaluation, the decision row) before it
was known. ``decide_request`` does all three as one local activity — the
member's prior cycles (Section I, prior therapy) for a first decision, the
engine's decision (Section III), the decision row (append-only, keyed by its
``decision_key``: a retry records nothing twice, and answers with the decision on
record, so a workflow task lost after the write acts on the same decision and
writes its notices under the same keys) — and returns the decision without its
trace (the row holds it). ``decide_renewal`` does the same for a
renewal (Section IV). Notices follow through the outbox, after.

Each row keeps the facts it was decided on — the request (with the facts
merged so far; a renewal's: merged with the renewal's changed facts) and the
member's prior cycles counted — which ``priorauth policy impact`` re-decides.
The row stores the request without the member's identity
(``domain.decision_facts``, in ``CaseStore.record_decision``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.evaluation import EvaluationActivities
from activities.models import (
    DecideRenewalInput,
    DecideRequestInput,
    DecideRequestResult,
    DecisionRecordContext,
    MemberHistoryInput,
    RecordDecisionInput,
)
from activities.store import CaseStore
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


class CaseDecisions:
    """The engine's decisions on a case, each evaluated and recorded in one activity."""

    def __init__(self, evaluation: EvaluationActivities, store: CaseStore) -> None:
        self._evaluation = evaluation
        self._store = store

    def activities(self) -> list[Callable[..., Any]]:
        return [self.decide_request, self.decide_renewal]

    @activity.defn
    async def decide_request(self, inp: DecideRequestInput) -> DecideRequestResult:
        """Section III on the request (after the member's prior cycles), recorded once."""
        evaluation = inp.evaluation
        if inp.member_ref is not None:
            history = await self._store.member_history(
                MemberHistoryInput(
                    member_ref=inp.member_ref,
                    exclude_case_id=inp.record.case_id,
                    policy_ref=evaluation.policy_ref,
                )
            )
            stated = evaluation.request.therapy.prior_blinatumomab_cycles or 0
            evaluation = evaluation.model_copy(
                update={"prior_cycles": max(stated, history.prior_cycles)}
            )
        result = self._evaluation.evaluate_request(evaluation)
        decision: Decision = result.decision
        prior_cycles = evaluation.prior_cycles
        recorded = await self._store.record_decision(
            _row(
                inp.record,
                evaluation.request,
                decision.determination,
                decision.policy,
                decision=decision,
                prior_cycles=prior_cycles,
            )
        )
        if not recorded.inserted:
            # A retry (the workflow task that ran this attempt was lost after the row,
            # and maybe its notices, were written): the decision on record is the
            # answer, so the case acts on it again, its notices under the same keys.
            stored = await self._store.recorded_decision(inp.record.decision_key)
            if stored is not None:
                decision, counted = stored
                result = self._evaluation.terms_of(evaluation, decision)
                prior_cycles = counted if counted is not None else prior_cycles
        return DecideRequestResult(
            decision=decision.model_copy(update={"trace": None}),
            terms=result.terms,
            prior_cycles=prior_cycles,
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
