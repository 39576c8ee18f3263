"""Treatment cycles (POLICY.md, Section I: cycle counts and lengths by track and phase).

A cycle starts at the first paid claim in it or on a ``cycle_started``
clinical event (DESIGN.md, How data flows, step 5); cycles are numbered as
the periods grant them, on from the member's prior cycles (Section I, prior
therapy), so no cycle among the prior ones and none beyond the track's total
is started; the end of a cycle's planned length is noted in the case's story.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import workflow

from workflows.policy_refs import REF_PERIOD

with workflow.unsafe.imports_passed_through():
    from workflows.case_state import CaseState, CycleState


class Cycles:
    """Cycle starts and boundaries of a case (mixed into AuthorizationWorkflow)."""

    s: CaseState

    def _cycle_boundary(self, now: datetime) -> None:
        """The current cycle's planned length is over (Section I): note it in the story."""
        s = self.s
        last = s.cycles[-1] if s.cycles else None
        if last is None or not last.cycle_days or last.cycle in s.boundaries_logged:
            return
        if now >= self._midnight(last.next_start):
            s.boundaries_logged.append(last.cycle)
            self._log(
                "cycle_boundary",
                f"cycle {last.cycle} ({last.phase}, {last.cycle_days} d) ended on "
                f"{last.next_start - timedelta(days=1)}",
                REF_PERIOD,
            )
            self._refresh_ui()

    def _claim_starts_cycle(self, day: date) -> None:
        """A cycle starts at the first paid claim in it (DESIGN.md; Section I cycle lengths).

        Cycles are numbered as the periods grant them (Section I, prior therapy): the first
        is its period's first cycle, the next one follows the last started, never before
        the first cycle of the claim's period nor past its last.
        """
        s = self.s
        period = next((p for p in s.periods if p.covers(day)), None)
        if period is None:
            return
        if not s.cycles:
            self._start_cycle(period.first_cycle, day, "claim")
            return
        last = s.cycles[-1]
        if last.cycle_days and day >= last.next_start and last.cycle + 1 <= period.last_cycle:
            self._start_cycle(max(last.cycle + 1, period.first_cycle), day, "claim")

    def _start_cycle(self, number: int, day: date, by: str) -> None:
        s = self.s
        if any(c.cycle == number for c in s.cycles):
            return
        terms = self._terms
        first = s.periods[0].first_cycle if s.periods else 1
        if number < first:
            self._log(
                "cycle_refused",
                f"cycle {number} is among the {first - 1} prior cycles counted at the grant",
                REF_PERIOD,
            )
            return
        if terms is not None and number > terms.total_cycles:
            self._log(
                "cycle_refused",
                f"cycle {number} is beyond the track's {terms.total_cycles}",
                REF_PERIOD,
            )
            return
        plan = next((c for c in terms.cycles if c.cycle == number), None) if terms else None
        s.cycles.append(
            CycleState(
                cycle=number,
                start=day,
                phase=plan.phase if plan else "",
                cycle_days=plan.cycle_days if plan else 0,
                started_by=by,
            )
        )
        s.cycles.sort(key=lambda c: c.cycle)
        self._log("cycle_started", f"cycle {number} started {day} ({by})", REF_PERIOD)
        self._changed()
