"""The domain engine over the case's policy: thin wrappers over pure calls (Sections I, III, IV).

The workflow cannot read the policy file (no I/O in workflows), so these hand
it everything it needs from the policy data: the decision, and the track's
terms (cycle plan, renewals, total cycles, renewal window). ``grant_terms`` is
an activity; the request's and a renewal's evaluation run inside the decision
activities (activities/decisions.py), which record what they decide in the
same step. Each call is decided under the case's policy: its ``policy_ref``,
or (a case started before cases named theirs) the policy of the request's
drug, from the registry built in worker.py. Validation problems of the input
(an unknown policy or drug among them) are non-retryable ``ApplicationError``s;
business outcomes are results.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import (
    CyclePlan,
    EvaluateRequestInput,
    EvaluationResult,
    GrantTerms,
    GrantTermsInput,
    TrackTerms,
)
from domain.decision import Decision
from domain.dosing import dosing_plan
from domain.engine import decide
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry
from domain.renewal import RenewalDecision, RenewalInput, decide_renewal
from domain.request import PARequest
from domain.terms import counted_prior_cycles, initial_authorization


def track_terms(policy: Policy, track_id: str, line_of_business: str | None = None) -> TrackTerms:
    """What a live case needs of its track (Section I; Section IV window) and of its line
    of business (the timely-filing limit of its claims run-out), from the data."""
    track = policy.tracks[track_id]
    renewal = track.renewal
    return TrackTerms(
        track=track_id,
        renewable=renewal is not None,
        max_renewals=renewal.max_renewals if renewal else 0,
        cycles_per_renewal=renewal.cycles_per_renewal if renewal else 0,
        renewal_period_days=renewal.period_days if renewal else None,
        total_cycles=track.total_cycles,
        renewal_window_days=policy.renewal.window_days_before_end,
        cycles=[
            CyclePlan(cycle=n, phase=group.phase, cycle_days=group.cycle_days)
            for group in track.cycles
            for n in range(group.from_, group.to + 1)
        ],
        timely_filing_days=policy.timely_filing_days(line_of_business),
    )


class EvaluationActivities:
    """Initial and renewal decisions under the case's policy."""

    def __init__(self, policies: PolicyRegistry) -> None:
        self._policies = policies

    def policy_for(self, ref: str | None, request: PARequest) -> Policy:
        """The policy a case runs under: by its ``policy_id@version``, else by the
        request's drug (``PolicyRegistry.resolve``). The one place a policy is resolved."""
        try:
            return self._policies.resolve(ref, request.service.hcpcs)
        except LookupError as err:
            raise ApplicationError(
                f"no policy for this case: {err}", type="UnknownPolicy", non_retryable=True
            ) from err

    def activities(self) -> list[Callable[..., Any]]:
        return [self.grant_terms]

    def terms_of(self, inp: EvaluateRequestInput, decision: Decision) -> EvaluationResult:
        """A decision already made (its row), with its track's terms, as evaluated."""
        policy = self.policy_for(inp.policy_ref, inp.request)
        lob = inp.request.line_of_business
        terms = track_terms(policy, decision.track, lob) if decision.track else None
        return EvaluationResult(decision=decision, terms=terms)

    def evaluate_request(self, inp: EvaluateRequestInput) -> EvaluationResult:
        """Section III: approve, pend, review, deny (a recommendation) or not applicable."""
        policy = self.policy_for(inp.policy_ref, inp.request)
        try:
            decision = decide(
                inp.request,
                policy,
                as_of=inp.as_of,
                prior_cycles=inp.prior_cycles,
                allow_automatic_denial=inp.allow_automatic_denial,
            )
        except (ValidationError, ValueError, KeyError) as err:
            raise ApplicationError(
                f"the request cannot be evaluated: {err}", type="InvalidRequest", non_retryable=True
            ) from err
        lob = inp.request.line_of_business
        terms = track_terms(policy, decision.track, lob) if decision.track else None
        return EvaluationResult(decision=decision, terms=terms)

    @activity.defn
    def grant_terms(self, inp: GrantTermsInput) -> GrantTerms:
        """Section I: the initial period of a track a reviewer approves on, after the
        member's prior cycles (the larger of the request's and the system's record)."""
        policy = self.policy_for(inp.policy_ref, inp.request)
        if inp.track not in policy.tracks:
            raise ApplicationError(
                f"unknown track {inp.track!r}", type="UnknownTrack", non_retryable=True
            )
        prior = counted_prior_cycles(inp.request, inp.prior_cycles)
        try:
            auth = initial_authorization(
                policy, inp.track, inp.request.period_start(), prior_cycles=prior
            )
        except ValueError as err:  # Section I: no cycle of the track is left
            raise ApplicationError(str(err), type="NoCyclesLeft", non_retryable=True) from err
        cycles = range(auth.first_cycle, auth.first_cycle + auth.cycles)
        clinical = inp.request.clinical
        dosing = dosing_plan(policy, inp.track, cycles, clinical.weight_kg, clinical.height_cm)
        return GrantTerms(
            authorization=auth,
            dosing=dosing,
            terms=track_terms(policy, inp.track, inp.request.line_of_business),
        )

    def renewal_policy(self, case_policy: Policy, request: PARequest, day: date) -> Policy:
        """The version a renewal is decided under: the one of the case's drug in effect on
        the renewal request's ``day`` (issue #17, ``PolicyRegistry.for_drug``); the case's
        own version when none is (a day after a last version's stated end) or its drug
        has no policy of its own (a case accepted before drugs were checked)."""
        try:
            policy = self._policies.for_drug(request.service.hcpcs or "", day)
        except LookupError:  # UnknownDrug, NoVersionInEffect
            return case_policy
        return policy if policy.id == case_policy.id else case_policy

    def evaluate_renewal(self, inp: RenewalInput, policy_ref: str | None = None) -> RenewalDecision:
        """Section IV: approve, review, pend, deny, too early or not renewable, under the
        version of the case's policy in effect on the renewal request's day (``as_of``);
        the case's policy: its ref, else the policy id its first decision named, else its
        drug's. The decision names the version it used (``RenewalDecision.policy``)."""
        ref = policy_ref or inp.policy_ref
        if ref is None and inp.policy_id is not None:
            ref = inp.policy_id  # an id alone: that policy's newest version
        policy = self.renewal_policy(self.policy_for(ref, inp.request), inp.request, inp.as_of)
        try:
            return decide_renewal(inp, policy)
        except (ValidationError, ValueError, KeyError) as err:
            raise ApplicationError(
                f"the renewal cannot be evaluated: {err}", type="InvalidRequest", non_retryable=True
            ) from err
