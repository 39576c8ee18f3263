"""Claims run-out (POLICY.md, "Claims against an authorization", Claims run-out).

Claims arrive after the infusion, often weeks later. A case that ends with an
approved period (``expired``, ``completed``, ``withdrawn``, ``discontinued``)
therefore keeps answering claim lines, by the usual checks, until the
timely-filing limit of its last payable date of service has passed: its
run-out. Meanwhile its status stays final, the Temporal UI's current details
say "run-out until <date>", the ``AuthRunOutUntil`` search attribute holds
the date (a running case with it set is in run-out), and the run-out's end is
one more deadline of the case (``CaseClock._next_deadline``): when it passes,
the run ends.

- The limit is the line of business's timely-filing days, from the policy
  data (the case's ``TrackTerms``) unless a setting overrides it.
- The last payable date of service is the last approved period's end, or the
  day of death or discontinuation, or the day before a withdrawal
  (``CaseState.claims_through``). The run-out's last day is the limit after the
  last period's end (or after the day before a withdrawal): never counted from a
  death or discontinuation date, since ``AuthRunOutUntil`` is stored in clear.
- A claim line "arrives" on the case's business day (its clock, in the
  request's time zone) when the workflow receives it; one received on the
  run-out's last day is in time, and the run ends at the midnight after it.
- A case that ended without an approved period (denied, not applicable,
  withdrawn before approval or before its period began) has no run-out.

A case in run-out holds only what claims and queries need: what only a live
case uses (the clinical events a renewal reads, the decision's dosing plan,
what a retraction of a discontinuation would restore) is dropped when the
run-out begins, since an ended case takes no retraction (workflows/events.py);
and the answers already given (one per claim line, for idempotence and the
``units`` query; most of an ended case's memory) are kept as JSON text rather
than as models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

from workflows.policy_refs import REF_RUN_OUT

with workflow.unsafe.imports_passed_through():
    from infra.temporal import AUTH_RUN_OUT_UNTIL
    from workflows.case_state import CaseState
    from workflows.messages import CaseConfig

#: workflow.patched id: an ended case with an approved period stays open for late claims.
PATCH_CLAIMS_RUN_OUT = "claims-run-out"


class RunOut:
    """The claims run-out of an ended case (mixed into AuthorizationWorkflow)."""

    s: CaseState
    _config: CaseConfig
    _finished: bool

    def _timely_filing_days(self) -> int | None:
        """The case's timely-filing limit: a setting's, else its terms' (the policy data's);
        None before the case has terms (the ledger then reads the policy data itself)."""
        s = self.s
        lob = s.request.line_of_business
        if lob in self._config.timely_filing_days or s.terms is not None:
            return self._config.timely_filing(lob, s.terms.timely_filing_days if s.terms else None)
        return None

    def _begin_run_out(self) -> bool:
        """The case has just ended: True when it stays open for its claims run-out.

        Sets the run-out's last day and ``AuthRunOutUntil`` for every case that ended
        with a payable day, also when that last day has already passed (the run then
        ends at once, and the attribute says when its claims stopped).
        """
        s = self.s
        limit = self._timely_filing_days()
        until = s.run_out_end(limit) if limit is not None else None
        if until is None or not workflow.patched(PATCH_CLAIMS_RUN_OUT):
            return False
        s.run_out_until = until
        # The day at 00:00 UTC: the attribute's date reads back as the run-out's last day.
        at = datetime.combine(until, time(), tzinfo=UTC)
        workflow.upsert_search_attributes([AUTH_RUN_OUT_UNTIL.value_set(at)])
        through = s.claims_through()
        if self._today() > until:
            self._log("run_out", f"no claims run-out: its last day {until} has passed", REF_RUN_OUT)
            return False
        self._slim_for_run_out()
        self._log(
            "run_out",
            f"claims run-out until {until}: claims for dates of service through {through} "
            f"are adjudicated within {limit} days of service",
            REF_RUN_OUT,
        )
        return True

    def _run_out_over(self, now: datetime) -> bool:
        """The run-out's last day is over (the run may end)."""
        until = self.s.run_out_until
        return until is not None and now >= self._run_out_end_at(until)

    def _run_out_end_at(self, until: date) -> datetime:
        return self._midnight(until + timedelta(days=1))

    def _slim_for_run_out(self) -> None:
        """Drop what only a live case reads: claims need periods, dates, terms and answers."""
        s = self.s
        s.archive_claims()  # the answers, as text: most of what an ended case holds
        s.clinical_events = []  # read by renewals only (events_seen keeps repeats out)
        # Kept to reinstate a case whose discontinuation is retracted: an ended case
        # takes no retraction any more (workflows/events.py).
        s.discontinued_from = None
        if s.decision is not None:  # the dosing plan is in the decision's audit row
            s.decision = s.decision.model_copy(update={"dosing": None})
