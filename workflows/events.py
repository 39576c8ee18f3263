"""Clinical events on a case (CONTRACT.md, "Clinical event"; POLICY.md, Sections IV and V).

An event is recorded once per event id (a row in ``clinical_events``, a line
in the case's log) and applied: ``cycle_started`` starts a cycle (Section
I), ``death`` and ``discontinued`` discontinue the case, toxicity, response,
weight and vaccine events are read at renewal (Section IV, V).

An event must be dated between the case's day of receipt and the case's
today, inclusive (business clock: ``workflow.now()`` shifted by the case's
clock offset, in the request's zone). A ``retraction`` withdraws an earlier
event of the case as entered in error: the event no longer counts for renewal
or dosing, the death and discontinuation dates are taken again from the
events that still count, and a case discontinued by the retracted ``death``
or ``discontinued`` event is reinstated in the status it had, its later
periods, open renewal review and timers restored (the run loop re-arms its
timer and processes whatever fell due meanwhile; a period that ended ends the
case as it would have). A retraction names an event recorded on this case,
not a ``cycle_started`` event or another retraction, and not one already
retracted.

Retraction and the claims run-out (workflows/run_out.py): a discontinued case
stays open, reinstatable, until its period ends; only then does it end and its
run-out begin (counted from the last period's end, so a reinstated case that
later ends is counted from the periods it got back). Once the case has ended,
a retraction is refused as a conflict (409): the run-out keeps no events, and
an ended case's decisions stand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from temporalio import workflow

from workflows.options import RETRY, SHORT
from workflows.policy_refs import REF_EVENTS, REF_RENEWAL

with workflow.unsafe.imports_passed_through():
    from activities.models import ClinicalEventInput
    from activities.store import CaseStore
    from domain.clinical_event import (
        DISCONTINUING,
        RETRACTABLE,
        ClinicalEvent,
        effective_events,
    )
    from infra.temporal import AUTH_PERIOD_END
    from workflows.case_state import LIVE_STATUSES, CaseState
    from workflows.messages import CaseInput


@dataclass(frozen=True)
class EventProblem:
    """Why an event is refused: bad input (422, naming ``field``) or a conflict (409)."""

    kind: Literal["invalid", "conflict"]
    field: str
    message: str


class ClinicalEvents:
    """Checks, records and applies clinical events (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _input: CaseInput
    _finished: bool

    def _event_problem(self, event: ClinicalEvent) -> EventProblem | None:
        """Why the case cannot take ``event`` now, or None (CONTRACT.md, Clinical event)."""
        s = self.s
        today = self._today()
        if not s.received_day <= event.date <= today:
            return EventProblem(
                "invalid",
                "date",
                f"an event is dated between the case's day of receipt ({s.received_day}) "
                f"and its today ({today}), inclusive",
            )
        if event.retraction is None:
            return None
        if s.run_out_until is not None or self._finished:
            # The case has ended (its period is over): nothing it decided can be undone, and
            # its claims run-out no longer holds the events (RunOut._slim_for_run_out).
            return EventProblem(
                "conflict",
                "retraction.retracts",
                f"the case has ended ({s.status}): its events can no longer be retracted",
            )
        target = self._recorded_event(event.retraction.retracts)
        if target is None:
            return EventProblem(
                "invalid", "retraction.retracts", "no event with this event_id is on this case"
            )
        if target.type not in RETRACTABLE:
            return EventProblem(
                "invalid",
                "retraction.retracts",
                f"a {target.type} event cannot be retracted "
                f"(retractable: {', '.join(sorted(RETRACTABLE))})",
            )
        by = s.retracted.get(target.event_id)
        if by is not None:
            return EventProblem(
                "conflict", "retraction.retracts", f"that event was already retracted by {by}"
            )
        return None

    def _recorded_event(self, event_id: str) -> ClinicalEvent | None:
        return next((e for e in self.s.clinical_events if e.event_id == event_id), None)

    async def _apply_event(self, event: ClinicalEvent, sent_by: str | None) -> None:
        """Record ``event`` (already in the case's events) and act on it; under the lock.

        ``sent_by`` is the system that sent it (the credential's subject): its row names it.
        """
        s = self.s
        await workflow.execute_activity_method(
            CaseStore.record_clinical_event,
            ClinicalEventInput(
                case_id=s.case_id,
                member_ref=self._input.member_ref,
                event=event,
                received_at=self._now(),
                sent_by=sent_by,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=RETRY,
            summary=f"clinical event {event.event_id} ({event.type})",
        )
        self._log("clinical_event", self._describe_event(event), REF_RENEWAL, sent_by)
        if event.type == "cycle_started" and event.cycle_started is not None:
            self._start_cycle(event.cycle_started.cycle, event.date, "event")
        elif event.type == "death":
            s.death_date = event.date
            await self._discontinue(event)
        elif event.type == "discontinued":
            s.discontinued_date = event.date
            await self._discontinue(event)
        elif event.type == "retraction" and event.retraction is not None:
            await self._retract(event)
        self._changed()

    async def _retract(self, retraction: ClinicalEvent) -> None:
        s = self.s
        assert retraction.retraction is not None
        target = self._recorded_event(retraction.retraction.retracts)
        if target is None:
            return
        counting = effective_events(s.clinical_events)
        deaths = [e.date for e in counting if e.type == "death"]
        stops = [e.date for e in counting if e.type == "discontinued"]
        s.death_date = deaths[-1] if deaths else None
        s.discontinued_date = stops[-1] if stops else None
        self._log(
            "retracted",
            f"{target.type} event {target.event_id} of {target.date} retracted as entered in "
            f"error: {retraction.retraction.reason}",
            REF_EVENTS,
        )
        if (
            target.type not in DISCONTINUING
            or s.status != "discontinued"
            or self._finished
            or s.run_out_until is not None
        ):
            return
        still = [e for e in counting if e.type in DISCONTINUING]
        if still:
            if s.discontinued_from is not None:
                s.discontinued_from.event_id = still[0].event_id
            self._log(
                "still_discontinued",
                f"the case stays discontinued: {still[0].type} event {still[0].event_id} "
                "still stands",
                REF_EVENTS,
            )
            return
        await self._reinstate(target)

    async def _reinstate(self, target: ClinicalEvent) -> None:
        """The discontinuing event was entered in error: back to the status the case had."""
        s = self.s
        before = s.discontinued_from
        status = before.status if before is not None else self._status_before_discontinuation()
        s.discontinued_from = None
        if before is not None:
            s.periods = [*s.periods[: s.period_index + 1], *before.later_periods]
            s.review = before.review
            s.renewal_pending_info = before.renewal_pending_info
            if before.escalated:
                self._set_escalated(True)
        if s.periods:
            workflow.upsert_search_attributes(
                [AUTH_PERIOD_END.value_set(self._midnight(s.periods[-1].end))]
            )
        period = s.period
        self._log(
            "reinstated",
            f"{target.type} reported in error: the case is {status} again"
            + (f" (period {s.period_index + 1} ends {period.end})" if period else ""),
            REF_EVENTS,
        )
        await self._set_status(status, f"{target.type} event retracted as entered in error")
        self._notify(
            "reinstated",
            {
                "retracted": target.type,
                "status": status,
                "period_end": period.end.isoformat() if period else None,
                "policy_ref": REF_EVENTS,
            },
        )

    def _status_before_discontinuation(self) -> str:
        """For a case discontinued before it kept what it set aside: its status just before."""
        changes = self.s.status_changes
        for i in range(len(changes) - 1, 0, -1):
            if changes[i].status == "discontinued":
                previous = changes[i - 1].status
                return previous if previous in LIVE_STATUSES else "active"
        return "active"
