"""What a case records and shows (DESIGN.md, Persistence; Temporal specifics).

Status changes (the ``AuthStatus`` search attribute, DESIGN.md, Case
statuses), the case's log, decision records (append-only, with the policy
version: ``record_decision``), the Postgres projection of the case
(``project_authorization``, versioned), the views the queries return and the
Temporal UI's current details (no PHI). Each decision row and notice names the
subject on whose message it happened (``_acting``); None is the case's own
clocks.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from temporalio import workflow

from workflows.options import RETRY, SHORT

with workflow.unsafe.imports_passed_through():
    from activities.models import AuthorizationProjection, PeriodTerms, RecordDecisionInput
    from activities.store import CaseStore
    from domain.clinical_event import ClinicalEvent
    from domain.decision import Decision
    from infra.temporal import AUTH_STATUS
    from workflows import ui
    from workflows.case_state import CaseState, LogEntry, StatusChange
    from workflows.messages import CaseInput, PeriodView


class _Acting:
    """``with``/``async with``: ``subject`` is the case's actor until the block ends."""

    def __init__(self, owner: Recording, subject: str | None) -> None:
        self._owner = owner
        self._subject = subject
        self._before: str | None = None

    def __enter__(self) -> None:
        self._before = self._owner._actor
        self._owner._actor = self._subject

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._owner._actor = self._before

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(kind, exc, tb)


class Recording:
    """Status, log, decisions, projection and UI of a case (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _input: CaseInput
    _finished: bool
    _project_pending: bool
    # Whose message the case is handling (under the case's lock); None: its own clocks.
    _actor: str | None

    def _acting(self, subject: str | None) -> _Acting:
        return _Acting(self, subject)

    def _changed(self) -> None:
        self._project_pending = True
        self._refresh_ui()
        self._poke()

    async def _set_status(self, status: str, reason: str = "") -> None:
        s = self.s
        s.last_reason = reason or s.last_reason
        if status == s.status:
            self._changed()
            return
        self._record_status_change(status, reason)
        workflow.upsert_search_attributes([AUTH_STATUS.value_set(status)])
        self._changed()

    def _record_status_change(self, status: str, reason: str) -> None:
        s = self.s
        now = self._now()
        s.status = status  # type: ignore[assignment]
        s.status_changes.append(
            StatusChange(status=status, at=now, day=self._day(now), reason=reason)
        )

    def _log(self, kind: str, text: str, policy_ref: str = "", actor: str | None = None) -> None:
        now = self._now()
        self.s.log.append(
            LogEntry(
                at=now, day=self._day(now), kind=kind, text=text, policy_ref=policy_ref, actor=actor
            )
        )

    async def _record_decision(
        self,
        kind: str,
        determination: str,
        automated: bool,
        *,
        reviewer: str | None = None,
        rationale: str | None = None,
        decision: Decision | None = None,
        reasons: list[dict[str, Any]] | None = None,
        trace: dict[str, Any] | None = None,
        trace_from_key: str | None = None,
        policy: tuple[str, str] | None = None,
    ) -> str:
        """Append the decision row, naming the actor; returns its key."""
        s = self.s
        s.decision_seq += 1
        key = f"{s.case_id}:{kind}:{s.decision_seq}"
        if policy is None:
            ref = decision.policy if decision else (s.decision.policy if s.decision else None)
            policy = (ref.id, ref.version) if ref else ("unknown", "unknown")
        await workflow.execute_activity_method(
            CaseStore.record_decision,
            RecordDecisionInput(
                decision_key=key,
                case_id=s.case_id,
                request_id=s.request.request_id,
                kind=kind,
                determination=determination,
                automated=automated,
                reviewer_id=reviewer,
                actor=self._actor,
                rationale=rationale,
                decision=decision,
                reasons=reasons or [],
                trace=trace,
                trace_from_key=trace_from_key,
                policy_id=policy[0],
                policy_version=policy[1],
                urgency=s.request.urgency,
                line_of_business=s.request.line_of_business,
                received_at=s.request.received_at,
                decided_at=self._now(),
                request=s.request,
                prior_cycles=s.prior_cycles,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"record {kind} decision: {determination}",
        )
        return key

    async def _project(self) -> None:
        s = self.s
        self._project_pending = False
        s.projection_version += 1
        period = s.period
        # Local, like claims: it follows every change; versioned, so a repeat is harmless.
        await workflow.execute_local_activity_method(
            CaseStore.project_authorization,
            AuthorizationProjection(
                case_id=s.case_id,
                request_id=s.request.request_id,
                member_ref=self._input.member_ref,
                version=s.projection_version,
                status=s.status,
                track=s.track,
                path=s.path,
                line_of_business=s.request.line_of_business,
                urgency=s.request.urgency,
                periods=self._period_terms(),
                renewals_used=s.renewals_used,
                cycles_started=s.cycles_started,
                units_authorized=s.units_authorized,
                period_end=period.end if period else None,
                escalated=s.escalated,
                received_at=s.request.received_at,
                updated_at=self._now(),
                policy_ref=self._input.policy_ref,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"project case (v{s.projection_version}, {s.status})",
        )

    def _period_terms(self) -> list[PeriodTerms]:
        return [
            PeriodTerms(
                start=p.start,
                end=p.end,
                kind=p.kind,
                cycles=p.cycles,
                authorized_units=p.authorized_units,
                first_cycle=p.first_cycle,
            )
            for p in self.s.periods
        ]

    def _period_views(self) -> list[PeriodView]:
        return [
            PeriodView(
                index=i,
                start=p.start,
                end=p.end,
                kind=p.kind,
                cycles=p.cycles,
                first_cycle=p.first_cycle,
                authorized_units=p.authorized_units,
                units_paid=p.units_paid,
                extended_days=p.extended_days,
            )
            for i, p in enumerate(self.s.periods)
        ]

    def _awaiting(self) -> str | None:
        s = self.s
        if self._finished:
            return None
        if s.status == "pended":
            return "facts: " + ", ".join(s.missing_facts)
        if s.review is not None:
            return f"{s.review.kind} review decision"
        if s.status == "denied":
            return "appeal (or the end of the appeal window)"
        if s.renewal_pending_info is not None:
            return "facts for the pended renewal"
        nxt = self._next_deadline()
        return nxt[1] if nxt else None

    def _refresh_ui(self) -> None:
        workflow.set_current_details(
            ui.current_details(self.s, self._awaiting(), closed=self._finished)
        )

    @staticmethod
    def _describe_event(event: ClinicalEvent) -> str:
        detail = ""
        if event.toxicity is not None:
            detail = f": {event.toxicity.kind} grade {event.toxicity.grade}"
        elif event.response_assessment is not None:
            detail = f": {event.response_assessment.result} ({event.response_assessment.method})"
        elif event.cycle_started is not None:
            detail = f": cycle {event.cycle_started.cycle}"
        elif event.retraction is not None:
            detail = f": retracts {event.retraction.retracts}"
        return f"{event.type} on {event.date}{detail}"
