"""Drives a ``CaseAggregate`` as the workflow does, without a server (tests/unit).

The engine's answers are the real engine's on the example request (approved on
relapsed/refractory, 2026-12-03 → 2027-06-30, 5 cycles, 2 renewals) or that
decision with another determination; the business clock is set by ``to``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from activities.evaluation import EvaluationActivities, track_terms
from activities.models import GrantTermsInput
from cases.config import case_config
from domain.case.aggregate import CaseAggregate
from domain.case.asks import RenewalAsk, TermsAsk
from domain.case.config import CaseConfig
from domain.case.effects import Effect, Notify
from domain.case.messages import (
    AppealInput,
    ClaimLineMessage,
    ClinicalEventMessage,
    ReviewDecisionInput,
)
from domain.claim import ClaimAnswer, ClaimLine
from domain.decision import Decision, Reason
from domain.engine import decide
from domain.policy import load_policy
from domain.policy_registry import default_registry
from domain.renewal import RenewalDecision
from infra.settings import Settings
from tests.unit.factories import request

POLICY = load_policy()
RECEIVED = datetime.fromisoformat("2026-12-01T09:00:00+00:00")
PERIOD_END = date(2027, 6, 30)


def clocks(**changes: Any) -> CaseConfig:
    """The case clocks of the Blincyto policy (its ``lines_of_business`` and
    ``case_defaults``, no setting overriding), with ``changes``."""
    return case_config(Settings(), POLICY).model_copy(update=changes)


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=RECEIVED.tzinfo)


class Case:
    """One case: the aggregate, the business time, every effect it returned so far."""

    def __init__(self, config: CaseConfig | None = None, **changes: Any) -> None:
        self.request = request(**changes)
        self.agg = CaseAggregate.new("pa-T", self.request, config or clocks(), "m_ref")
        self.s = self.agg.s
        self.effects: list[Effect] = []
        self.to(RECEIVED)
        self.take(self.agg.receive("intake-1"))

    def to(self, when: datetime | date) -> Case:
        self.agg.at(midnight(when) if not isinstance(when, datetime) else when)
        return self

    def later(self, **delta: float) -> Case:
        return self.to(self.agg.now + timedelta(**delta))

    def take(self, effects: list[Effect]) -> list[Effect]:
        self.effects += effects
        return effects

    def notices(self) -> list[str]:
        return [e.kind for e in self.effects if isinstance(e, Notify)]

    @property
    def statuses(self) -> list[str]:
        return [c.status for c in self.s.status_changes]

    # -------------------------------------------------------------- the engine

    def engine(self, determination: str = "approve", **changes: Any) -> Decision:
        decision = decide(self.s.request, POLICY, as_of=self.agg.today)
        if determination == "approve":
            return decision.model_copy(update=changes)
        update = {
            "determination": determination,
            "authorization": None,
            "automated": determination != "deny",
            "reasons": [Reason(code=determination, policy_ref="III", text=determination)],
            **changes,
        }
        return decision.model_copy(update=update)

    def evaluate(
        self, determination: str = "approve", kind: str = "initial", **changes: Any
    ) -> list[Effect]:
        ask = self.agg.evaluation(kind, "intake-1")
        decision = self.engine(determination, **changes)
        terms = track_terms(POLICY, decision.track, "commercial") if decision.track else None
        _det, effects = self.agg.on_evaluation(ask, decision, terms, ask.prior_cycles)
        return self.take(effects)

    def due(self) -> list[Effect]:
        return self.take(self.agg.on_due())

    def at_next(self) -> list[Effect]:
        """Move the clock to the next deadline and handle what is due."""
        nxt = self.agg.next_deadline()
        assert nxt is not None
        self.to(nxt.at)
        return self.due()

    # -------------------------------------------------------------- messages

    def review(self, determination: str, reviewer: str = "rph-1", **extra: Any) -> Any:
        inp = ReviewDecisionInput(
            determination=determination, rationale="reviewed", reviewer_id=reviewer, **extra
        )
        ask = self.agg.review_terms(inp)
        granted = None
        if isinstance(ask, TermsAsk):  # as the workflow runs the grant_terms activity
            grant = EvaluationActivities(default_registry()).grant_terms(
                GrantTermsInput(
                    request=ask.request,
                    track=ask.track,
                    as_of=ask.as_of,
                    prior_cycles=ask.prior_cycles,
                )
            )
            granted = ask.track, grant.authorization, grant.terms
        result, effects = self.agg.decide_review(inp, granted)
        self.take(effects)
        return result

    def appeal(self) -> Any:
        result, effects = self.agg.appeal(AppealInput(reason="letter", requested_by="intake-1"))
        self.take(effects)
        return result

    def renew(self, determination: str = "approve") -> Any:
        ask = self.agg.renewal({}, "intake-1")
        assert isinstance(ask, RenewalAsk), ask
        last = self.s.periods[-1]
        auth = last.model_dump()
        start = last.end + timedelta(days=1)
        authorization = (
            {
                "start": start,
                "end": start + timedelta(days=167),
                "days": 168,
                "cycles": 2,
                "renewable": True,
                "max_renewals": 2,
                "max_units_per_42_days": 980,
                "authorized_units": 1960,
                "first_cycle": last.first_cycle + auth["cycles"],
                "kind": "renewal",
            }
            if determination == "approve"
            else None
        )
        decision = RenewalDecision.model_validate(
            {
                "determination": determination,
                "automated": determination != "deny",
                "track": self.s.track,
                "policy": {"id": "p", "version": "1"},
                "authorization": authorization,
                "missing_facts": ["clinical.weight_kg"] if determination == "pend" else [],
            }
        )
        result, effects = self.agg.on_renewal_decision(ask, decision)
        self.take(effects)
        return result

    def claim(self, claim_id: str, day: date, units: int = 35) -> list[Effect]:
        line = ClaimLine.model_validate(
            {
                "claim_id": claim_id,
                "line": 1,
                "member_id": self.request.member.member_id,
                "date_of_service": day.isoformat(),
                "hcpcs": "J9039",
                "ndc": "55513-0160-01",
                "units": units,
                "icd10_codes": ["C91.00"],
            }
        )
        answer = ClaimAnswer(
            claim_id=claim_id, line=1, status="paid", allowed_units=units, denied_units=0
        )
        earlier, seen = self.agg.earlier_answer(line)
        assert earlier is None
        return self.take(self.agg.on_claim_answer(line, answer, repeated_id=seen))

    def event(self, event_id: str, type_: str, day: date, **payload: Any) -> Any:
        message = ClinicalEventMessage.model_validate(
            {"event_id": event_id, "type": type_, "date": day.isoformat(), **payload}
        )
        assert self.agg.duplicate_event(message.clinical_event()) is None
        result, effects = self.agg.record_event(message)
        self.take(effects)
        return result

    def claim_message(self, member_id: str) -> ClaimLineMessage:
        return ClaimLineMessage.model_validate(
            {
                "claim_id": "C",
                "line": 1,
                "member_id": member_id,
                "date_of_service": "2026-12-05",
                "hcpcs": "J9039",
                "units": 1,
                "icd10_codes": ["C91.00"],
            }
        )


def approved() -> Case:
    case = Case()
    case.evaluate("approve")
    assert case.s.status == "active"
    return case


def in_review() -> Case:
    case = Case()
    case.evaluate("review")
    assert case.s.status == "in_review"
    return case


def denied() -> Case:
    case = in_review()
    case.review("deny")
    assert case.s.status == "denied"
    return case


def in_window() -> Case:
    case = approved()
    case.to(PERIOD_END - timedelta(days=30))
    case.due()
    assert case.s.status == "renewal_window"
    return case
