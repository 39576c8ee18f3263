"""Intake and evaluation of the request (DESIGN.md, How data flows, steps 1-4).

The member's prior blinatumomab cycles are read from the claims ledger
(POLICY.md, Section I), the request is evaluated by the domain engine through
an activity (POLICY.md, Section III; Three-valued evaluation and the outcome),
and the determination is acted on: approve, pend, review, deny (where a line
of business allows an automated denial) or not applicable (POLICY.md,
Appendix 2 – Medicare).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.options import RETRY, SHORT
from workflows.policy_refs import first_reason, reason_payloads

with workflow.unsafe.imports_passed_through():
    from activities.evaluation import EvaluationActivities
    from activities.models import EvaluateRequestInput, EvaluationResult, MemberHistoryInput
    from activities.store import CaseStore
    from domain.decision import Reason
    from infra.temporal import AUTH_ESCALATED, AUTH_STATUS, MEMBER_REF
    from workflows.case_state import CaseState
    from workflows.messages import CaseConfig, CaseInput


class Intake:
    """The request's intake and the engine's determination (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _input: CaseInput
    _config: CaseConfig

    async def _intake(self) -> None:
        s = self.s
        # Searchable from the start (the starter sets MemberRef and AuthStatus too).
        workflow.upsert_search_attributes(
            [
                MEMBER_REF.value_set(self._input.member_ref),
                AUTH_STATUS.value_set("received"),
                AUTH_ESCALATED.value_set(False),
            ]
        )
        history = await workflow.execute_activity_method(
            CaseStore.member_history,
            MemberHistoryInput(
                member_ref=self._input.member_ref,
                exclude_case_id=s.case_id,
                policy_ref=self._input.policy_ref,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary="prior blinatumomab cycles of the member (Section I)",
        )
        s.prior_cycles = max(s.request.therapy.prior_blinatumomab_cycles or 0, history.prior_cycles)
        result = await self._evaluate()
        await self._apply_evaluation(result, "initial")

    async def _evaluate(self) -> EvaluationResult | None:
        s = self.s
        try:
            return await workflow.execute_activity_method(
                EvaluationActivities.evaluate_request,
                EvaluateRequestInput(
                    request=s.request,
                    as_of=self._today(),
                    prior_cycles=s.prior_cycles,
                    allow_automatic_denial=s.request.line_of_business
                    in self._config.auto_deny_lines_of_business,
                    policy_ref=self._input.policy_ref,
                ),
                start_to_close_timeout=SHORT,
                retry_policy=RETRY,
                summary="evaluate the request against the policy (Section III)",
            )
        except ActivityError as err:
            self._log("evaluation_failed", f"automated evaluation failed: {err.cause or err}")
            return None

    async def _apply_evaluation(self, result: EvaluationResult | None, kind: str) -> str:
        """Act on the engine's determination (DESIGN.md, How data flows, step 4)."""
        s = self.s
        if result is None:
            s.determination = "review"
            await self._open_review(
                "initial",
                "review",
                [
                    Reason(
                        code="evaluation_failed",
                        policy_ref="III",
                        text="automated evaluation failed",
                    )
                ],
            )
            return "review"
        decision = result.decision
        s.decision = decision
        s.determination = decision.determination
        s.missing_facts = list(decision.missing_facts)
        if result.terms is not None:
            s.terms = result.terms
        s.decision_key = await self._record_decision(
            kind, decision.determination, True, decision=decision
        )
        s.decision = decision.model_copy(update={"trace": None})
        det = decision.determination
        if det == "approve" and decision.authorization is not None:
            await self._grant(decision.authorization, decision, decision.reasons)
        elif s.review is not None:
            # New facts during a review: an approval needs no reviewer, anything
            # else stays with the reviewer as the new recommendation.
            s.review.recommendation = det
            s.review.reasons = decision.reasons
            self._log("review_updated", f"re-evaluated in review: {det}", "III")
            self._changed()
        elif det == "pend":
            await self._pend(decision.missing_facts, decision.reasons)
        elif det == "not_applicable":
            await self._set_status(
                "not_applicable", first_reason(decision.reasons, "Medicare Part B")
            )
            self._notify(
                "not_applicable",
                {
                    "medicare": decision.medicare.model_dump(mode="json")
                    if decision.medicare
                    else None,
                    "reasons": reason_payloads(decision.reasons),
                },
            )
            self._finish(s.last_reason)
        elif det == "deny" and decision.automated:
            await self._deny(None, decision.reasons)
        else:
            # review, a deny recommendation (no adverse decision is automated), or an
            # approve without terms: a clinical reviewer decides.
            await self._open_review("initial", det, decision.reasons)
        return det
