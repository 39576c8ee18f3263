"""Renewals (POLICY.md, Section IV; DESIGN.md, How data flows, steps 5-6).

A renewal is decided by the engine on the case's facts with the changed facts
merged over them; an approval adds the next period and the run continues as
new, with the next cycles after the last one granted (POLICY.md, Section I,
prior therapy); a review recommendation goes to a clinical reviewer (no adverse decision
is automated); a pend waits for facts until the period's last day. A
reviewer's approval of an initial or appeal review takes the engine's terms,
else the named track's (POLICY.md, Section I).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.options import RETRY, SHORT
from workflows.policy_refs import REF_RENEWAL, first_reason, reason_payloads

with workflow.unsafe.imports_passed_through():
    from activities.evaluation import EvaluationActivities
    from activities.models import GrantTerms, GrantTermsInput, TrackTerms
    from domain.decision import Authorization
    from domain.facts import merge_facts
    from domain.renewal import RenewalDecision, RenewalInput
    from infra.temporal import AUTH_PERIOD_END, AUTH_RENEWALS_USED
    from workflows.case_state import LIVE_STATUSES, CaseState, PendingReview, PeriodState
    from workflows.messages import (
        CaseConfig,
        CaseInput,
        PeriodView,
        RenewalResult,
        ReviewDecisionInput,
        ReviewDecisionResult,
    )


class Renewals:
    """Renewal requests and reviews, and the terms of an approval (mixed into the workflow)."""

    s: CaseState
    _input: CaseInput
    _config: CaseConfig
    _finished: bool
    _continue: bool

    async def _renew(self, facts: dict[str, Any], actor: str | None) -> RenewalResult:
        s = self.s
        period = s.period
        if s.status not in LIVE_STATUSES or period is None or self._finished:
            return RenewalResult(
                accepted=False,
                status=s.status,
                policy_ref=REF_RENEWAL,
                reason=f"a renewal is taken while the case is active; the case is {s.status}",
            )
        if s.period_index < len(s.periods) - 1:
            nxt = s.periods[s.period_index + 1]
            return RenewalResult(
                accepted=False,
                status=s.status,
                policy_ref=REF_RENEWAL,
                reason=f"already renewed: the next period runs {nxt.start} → {nxt.end}",
                period=self._period_views()[s.period_index + 1],
            )
        if s.review is not None and s.review.kind == "renewal":
            return RenewalResult(
                accepted=False,
                status=s.status,
                policy_ref=REF_RENEWAL,
                reason="a renewal is already in clinical review",
            )
        merged = merge_facts(s.request, facts, recorded=True)
        today = self._today()
        evaluation = await workflow.execute_activity_method(
            EvaluationActivities.evaluate_renewal,
            RenewalInput(
                request=merged,
                track=s.track or "",
                path=s.path,
                renewals_used=s.renewals_used,
                last_cycle=s.periods[-1].last_cycle,  # Section I: the numbering continues
                period_start=period.start,
                period_end=period.end,
                as_of=today,
                events=s.clinical_events,  # the engine reads those of the current period
                policy_id=s.decision.policy.id if s.decision else None,
                policy_ref=self._input.policy_ref,
                allow_automatic_denial=s.request.line_of_business
                in self._config.auto_deny_lines_of_business,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"evaluate renewal {s.renewals_used + 1} (Section IV)",
        )
        det = evaluation.determination
        self._log(
            "renewal_request",
            f"renewal requested: {det} — {first_reason(evaluation.reasons, det)}",
            REF_RENEWAL,
            actor,
        )
        key = await self._record_decision(
            "renewal",
            det,
            True,
            reasons=reason_payloads(evaluation.reasons),
            trace=evaluation.trace.model_dump(mode="json") if evaluation.trace else None,
            policy=(evaluation.policy.id, evaluation.policy.version),
        )
        view: PeriodView | None = None
        if det == "approve" and evaluation.authorization is not None:
            s.request = merged
            view = await self._add_renewal_period(evaluation.authorization, actor)
            accepted, reason = True, "renewal approved"
        elif det == "review" or (det == "deny" and not evaluation.automated):
            # No adverse decision is automated: a deny is a reviewer's recommendation.
            await self._open_review(
                "renewal",
                det,
                evaluation.reasons,
                renewal=evaluation,
                renewal_facts=facts,
                trace_key=key,
            )
            accepted, reason = True, f"renewal sent to clinical review (recommendation: {det})"
        elif det == "pend":
            s.renewal_pending_info = facts
            s.missing_facts = list(evaluation.missing_facts)
            self._notify(
                "pend",
                {
                    "missing_facts": evaluation.missing_facts,
                    "deadline": period.end.isoformat(),
                    "reasons": reason_payloads(evaluation.reasons),
                },
            )
            accepted, reason = (
                True,
                "renewal pended: "
                + (
                    ", ".join(evaluation.missing_facts) or first_reason(evaluation.reasons, "facts")
                ),
            )
        else:
            self._notify(
                "renewal_refused",
                {
                    "reasons": reason_payloads(evaluation.reasons),
                    "window_opens": evaluation.window_opens.isoformat()
                    if evaluation.window_opens
                    else None,
                },
            )
            accepted = False
            reason = first_reason(evaluation.reasons, f"renewal refused: {det}")
            if det == "too_early" and evaluation.window_opens is not None:
                reason = f"too early: the renewal window opens on {evaluation.window_opens}"
        s.last_reason = reason
        self._changed()
        return RenewalResult(
            accepted=accepted,
            status=s.status,
            reason=reason,
            policy_ref=REF_RENEWAL,
            determination=det,
            window_opens=evaluation.window_opens,
            period=view,
            reasons=evaluation.reasons,
        )

    async def _add_renewal_period(self, auth: Authorization, actor: str | None) -> PeriodView:
        s = self.s
        s.periods.append(PeriodState.granted(auth, "renewal"))
        s.renewals_used += 1
        s.max_renewals = auth.max_renewals
        s.renewal_pending_info = None
        s.missing_facts = []
        self._close_review()
        workflow.upsert_search_attributes(
            [
                AUTH_RENEWALS_USED.value_set(s.renewals_used),
                AUTH_PERIOD_END.value_set(self._midnight(auth.end)),
            ]
        )
        self._log(
            "renewed",
            f"renewal {s.renewals_used} approved: {auth.start} → {auth.end}, cycles "
            f"{auth.first_cycle}–{auth.first_cycle + auth.cycles - 1}",
            REF_RENEWAL,
            actor,
        )
        await self._set_status("active", f"renewal {s.renewals_used} approved")
        self._notify(
            "renewal_approved",
            {
                "track": s.track,
                "period_start": auth.start.isoformat(),
                "period_end": auth.end.isoformat(),
                "cycles": auth.cycles,
                "first_cycle": auth.first_cycle,
                "authorized_units": auth.authorized_units,
                "max_units_per_42_days": auth.max_units_per_42_days,
                "renewals_left": max(0, self._max_renewals - s.renewals_used),
                "policy_ref": REF_RENEWAL,
            },
            n=s.renewals_used,
        )
        self._continue = True
        return self._period_views()[-1]

    async def _decide_renewal_review(
        self, review: PendingReview, inp: ReviewDecisionInput
    ) -> ReviewDecisionResult:
        s = self.s
        await self._record_decision(
            "renewal",
            inp.determination,
            False,
            reviewer=inp.reviewer_id,
            rationale=inp.rationale,
            trace_from_key=review.trace_key,
        )
        evaluation = (
            RenewalDecision.model_validate(review.renewal_decision)
            if review.renewal_decision
            else None
        )
        if inp.determination == "approve":
            if evaluation is None or evaluation.authorization is None:
                return ReviewDecisionResult(
                    accepted=False,
                    status=s.status,
                    review_kind="renewal",
                    reason="the renewal has no terms to approve",
                )
            s.request = merge_facts(s.request, review.renewal_facts, recorded=True)
            await self._add_renewal_period(evaluation.authorization, inp.reviewer_id)
        elif inp.determination == "deny":
            self._close_review()
            self._log(
                "renewal_denied",
                f"renewal denied by the reviewer: {inp.rationale}",
                REF_RENEWAL,
                inp.reviewer_id,
            )
            self._notify(
                "renewal_refused",
                {
                    "reasons": [
                        {"code": "reviewer_deny", "policy_ref": REF_RENEWAL, "text": inp.rationale}
                    ],
                    "reviewer_id": inp.reviewer_id,
                },
            )
        else:
            self._close_review()
            s.renewal_pending_info = review.renewal_facts
            self._notify("pend", {"missing_facts": s.missing_facts, "reasons": []})
        self._changed()
        return ReviewDecisionResult(
            accepted=True,
            status=s.status,
            reason=f"renewal review decided: {inp.determination}",
            determination=inp.determination,
            review_kind="renewal",
        )

    async def _terms_for_approval(
        self, track: str | None
    ) -> tuple[Authorization, TrackTerms] | None:
        """The period to grant on a reviewer's approval: the engine's, else the named track's."""
        s = self.s
        decision = s.decision
        if (
            track is None
            and decision is not None
            and decision.authorization is not None
            and s.terms
        ):
            return decision.authorization, s.terms
        track = track or (decision.track if decision else None) or s.request.therapy.setting
        if track is None:
            return None
        try:
            grant: GrantTerms = await workflow.execute_activity_method(
                EvaluationActivities.grant_terms,
                GrantTermsInput(
                    request=s.request,
                    track=track,
                    as_of=self._today(),
                    prior_cycles=s.prior_cycles,
                    policy_ref=self._input.policy_ref,
                ),
                start_to_close_timeout=SHORT,
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary=f"terms of track {track} (Section I)",
            )
        except ActivityError:
            return None
        s.track = track
        return grant.authorization, grant.terms
