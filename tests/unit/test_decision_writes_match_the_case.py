"""A decision's local activity writes what the case itself would write after it.

``CaseDecisions.decide_request`` takes the decision into a copy of the case (the
pure aggregate, at the workflow's time) and writes the notices and the projection
that follow in the decision row's transaction; the workflow then takes the same
decision into the case and compares digests (``activities/case_writes.py``). These
specs hold the two to the same answer for every determination a first decision can
have, and show the digest tells a difference.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.case_writes import digest, next_projection, notice_of
from activities.decisions import writes_after
from activities.evaluation import track_terms
from activities.models import (
    AuthorizationProjection,
    CaseWrites,
    DecideRequestInput,
    NotificationInput,
)
from domain.case.effects import Notify, Project
from tests.unit.case_harness import POLICY, RECEIVED, Case


def _as_the_workflow_asks(case: Case) -> tuple[object, DecideRequestInput]:
    ask = case.agg.evaluation("initial", "intake-1")
    writes = CaseWrites(
        state=case.s.model_copy(deep=True),
        config=case.agg.config,
        member_ref=case.agg.member_ref,
        server_now=RECEIVED,
    )
    inp = DecideRequestInput.of(ask, case.s.case_id, case.agg.member_ref, writes)
    assert inp.ask() == ask  # the activity takes the very ask the case made
    return ask, inp


def _the_cases_own(
    case: Case, ask: object, determination: str, **changes: object
) -> tuple[list[NotificationInput], AuthorizationProjection | None]:
    decision = case.engine(determination, **changes)
    terms = track_terms(POLICY, decision.track, "commercial") if decision.track else None
    _, effects = case.agg.on_evaluation(ask, decision, terms, 0)  # type: ignore[arg-type]
    notices = [notice_of(e, case.s) for e in effects if isinstance(e, Notify)]
    project = any(isinstance(e, Project) for e in effects)
    projection = next_projection(case.s, case.agg.member_ref, case.agg.now) if project else None
    return notices, projection


@pytest.mark.parametrize(
    ("determination", "changes", "notice", "status"),
    [
        ("approve", {}, "approval", "active"),
        ("pend", {"missing_facts": ["diagnosis.mrd_percent"]}, "pend", "pended"),
        ("review", {}, "review_assignment", "in_review"),
        ("deny", {"automated": False}, "review_assignment", "in_review"),
        ("deny", {"automated": True}, "denial", "denied"),
        ("not_applicable", {}, "not_applicable", "not_applicable"),
    ],
)
def test_the_activity_writes_the_notices_and_projection_the_case_would_write(
    determination: str, changes: dict[str, object], notice: str, status: str
) -> None:
    case = Case()
    ask, inp = _as_the_workflow_asks(case)
    decision = case.engine(determination, **changes)
    terms = track_terms(POLICY, decision.track, "commercial") if decision.track else None
    assert inp.case is not None

    written = writes_after(inp.case, inp.ask(), decision, terms, 0)
    notices, projection = _the_cases_own(case, ask, determination, **changes)

    assert [n.kind for n in written.notices] == [notice]
    assert written.projection is not None and written.projection.status == status
    assert (written.notices, written.projection) == (notices, projection)
    assert digest(written.notices, written.projection) == digest(notices, projection)


def test_the_digest_tells_writes_that_differ() -> None:
    case = Case()
    ask, inp = _as_the_workflow_asks(case)
    assert inp.case is not None
    decision = case.engine("approve")
    terms = track_terms(POLICY, decision.track, "commercial")
    written = writes_after(inp.case, inp.ask(), decision, terms, 0)
    case.agg.at(RECEIVED + timedelta(days=1))  # another time: another projection
    notices, projection = _the_cases_own(case, ask, "approve")

    assert projection is not None and written.projection is not None
    assert projection.updated_at != written.projection.updated_at
    assert digest(written.notices, written.projection) != digest(notices, projection)
