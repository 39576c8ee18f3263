"""`priorauth dev --demo`: a working payer queue, as real workflows on the real dev server.

Twenty cases across every track and status — pended, in review (one of them
escalated), active mid-cycle, in the renewal window, renewed, expired,
completed, denied, appealed, withdrawn, discontinued, not applicable — so a
newcomer opening the Temporal UI sees a queue to work.

The dev server does not skip time, so the cases are **back-dated**: each
request was received (and its period started) some days ago, and the
workflow's own clock arithmetic (period end, renewal window, cycle
boundaries) puts it where it belongs today. Claim lines and clinical events
carry past dates of service. What back-dating cannot reach is driven by the
real updates a person would send: reviewer decisions, an appeal, a
withdrawal, a renewal, an extension. One expedited review is configured to
escalate on assignment (``escalate_before_hours`` equal to its 24-hour
clock), so the escalation queue is not empty.

Loading is idempotent: request ids are fixed (``DEMO-1001`` …) and a case
that already exists is left as it is, so loading twice adds nothing.

Each step names the person or system who sends it, as the API would from
their credential (README, Security): ``DEMO_PEOPLE`` are the subjects, and
``priorauth dev`` gives each of them a token of their own (``dev-tokens.json``
in the data dir), so the queue can be worked on as each of them — the denying
reviewer cannot decide the appeal; the other reviewer can.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from temporalio.client import Client

from domain.case_id import case_id as case_id_of
from domain.claim import ClaimLine
from domain.clinical_event import ClinicalEvent
from domain.request import PARequest
from infra.settings import Settings
from workflows.messages import (
    AppealInput,
    ExtendPeriodInput,
    ProvideInfoInput,
    RenewalRequestInput,
    ReviewDecisionInput,
    UpdateOutcome,
    WithdrawInput,
)

if TYPE_CHECKING:
    from cases.client import CaseClient

log = structlog.get_logger("demo")

REVIEWER = "rph-demo-1"
APPEAL_REVIEWER = "md-demo-2"
INTAKE = "intake-demo"
CLAIMS_SYSTEM = "claims-demo"
CLINICAL_SYSTEM = "clinical-demo"
#: Subject -> roles of the demo's people and systems (``priorauth dev`` gives each a token).
DEMO_PEOPLE: dict[str, list[str]] = {
    INTAKE: ["intake"],
    REVIEWER: ["reviewer"],
    APPEAL_REVIEWER: ["reviewer"],
    CLAIMS_SYSTEM: ["claims"],
    CLINICAL_SYSTEM: ["clinical"],
    "auditor-demo": ["read-only"],
}
WAIT_FIRST_S = 30.0

# Daily doses (mcg) by day range, Section V, for patients of 45 kg or more.
RR_CYCLE_1 = ((1, 7, 9), (8, 28, 28))
FLAT_28 = ((1, 28, 28),)
FRONTLINE = ((1, 7, 9), (8, 28, 28))


#: One thing a person or system sends to the case, in order: the message itself.
Step = (
    ClaimLine
    | ClinicalEvent
    | ReviewDecisionInput
    | AppealInput
    | WithdrawInput
    | ProvideInfoInput
    | RenewalRequestInput
    | ExtendPeriodInput
)


@dataclass
class DemoCase:
    key: str
    title: str
    expect: str
    request: PARequest
    steps: list[Step] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def case_id(self) -> str:
        return case_id_of(self.request.request_id)


@dataclass
class DemoResult:
    case_id: str
    title: str
    created: bool
    status: str
    expected: str
    refused: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- requests


def _request(
    n: int,
    start: date,
    *,
    lob: str = "commercial",
    urgency: str = "standard",
    age_years: float = 48,
    state: str = "OR",
    diagnosis: dict[str, Any] | None = None,
    therapy: dict[str, Any] | None = None,
    clinical: dict[str, Any] | None = None,
) -> PARequest:
    """The CONTRACT.md example as a demo member's request (synthetic), received two days
    before its requested start; not relapsed unless ``diagnosis`` says so."""
    from examples.example_requests import parequest

    received = datetime.combine(start - timedelta(days=2), time(14, 30), tzinfo=UTC)
    dob = start - timedelta(days=round(age_years * 365.25))
    return parequest(
        request_id=f"DEMO-{n}",
        received_at=received,
        requested_start=start,
        member_id=f"DM-{n}",
        urgency=urgency,
        line_of_business=lob,
        member={
            "first_name": "Demo",
            "last_name": f"Member {n}",
            "date_of_birth": dob.isoformat(),
            "state": state,
        },
        prescriber={"name": "Dr. Demo Oncology"},
        diagnosis={"relapsed_or_refractory": False, **(diagnosis or {})},
        therapy=therapy or {},
        clinical=clinical or {},
    )


def _cycle_claims(
    req: PARequest,
    cycle: int,
    cycle_start: date,
    doses: tuple[tuple[int, int, float], ...],
    today: date,
    *,
    lines_per_cycle: int = 2,
) -> list[Step]:
    """The claims system bills a cycle's 28 treatment days in ``lines_per_cycle`` lines."""
    steps: list[Step] = []
    span = 28 // lines_per_cycle
    for i in range(lines_per_cycle):
        first, last = i * span + 1, (i + 1) * span
        dos = cycle_start + timedelta(days=first - 1)
        if dos > today:
            break
        units = 0.0
        for day in range(first, last + 1):
            units += next((mcg for lo, hi, mcg in doses if lo <= day <= hi), 0)
        line = ClaimLine(
            claim_id=f"CLM-{req.request_id}-C{cycle}",
            line=i + 1,
            member_id=req.member.member_id,
            date_of_service=dos,
            hcpcs="J9039",
            ndc="55513-0160-01",
            units=round(units),
            modifiers=["JZ"],
            icd10_codes=req.diagnosis.icd10_codes or [],
        )
        steps.append(line)
    return steps


def _event(req: PARequest, n: int, day: date, kind: str, **payload: Any) -> Step:
    body: dict[str, Any] = {"event_id": f"EV-{req.request_id}-{n}", "type": kind, "date": day}
    body.update(payload)
    return ClinicalEvent.model_validate(body)


def demo_cases(today: date) -> list[DemoCase]:
    """The demo queue as of ``today`` (dates are all relative to it)."""

    def ago(days: int) -> date:
        return today - timedelta(days=days)

    cases: list[DemoCase] = []

    # Active relapsed/refractory adult, in cycle 2 (day 59 of 210).
    s = ago(58)
    r = _request(1001, s, diagnosis={"relapsed_or_refractory": True})
    cases.append(
        DemoCase(
            "rr-active",
            "relapsed/refractory, active mid-cycle 2",
            "active",
            r,
            [
                *_cycle_claims(r, 1, s, RR_CYCLE_1, today),
                _event(
                    r, 1, s + timedelta(days=3), "toxicity", toxicity={"kind": "crs", "grade": 2}
                ),
                _event(
                    r,
                    2,
                    s + timedelta(days=38),
                    "response_assessment",
                    response_assessment={"result": "complete_response", "method": "bone_marrow"},
                ),
                *_cycle_claims(r, 2, s + timedelta(days=42), FLAT_28, today),
            ],
        )
    )

    # Consolidation with multiagent chemotherapy, Medicaid, early in cycle 1.
    s = ago(20)
    r = _request(
        1002,
        s,
        lob="medicaid",
        therapy={"setting": "consolidation", "combined_with": ["multiagent_chemotherapy"]},
    )
    cases.append(
        DemoCase(
            "cons-active",
            "consolidation (Ph−, with chemotherapy), Medicaid",
            "active",
            r,
            _cycle_claims(r, 1, s, FLAT_28, today),
        )
    )

    # MRD-positive, Medicare Advantage, in cycle 3.
    s = ago(100)
    r = _request(
        1003,
        s,
        lob="medicare_advantage",
        age_years=67,
        diagnosis={"mrd_percent": 0.4, "complete_remission": "first"},
        therapy={"setting": "mrd_positive"},
    )
    cases.append(
        DemoCase(
            "mrd-active",
            "MRD-positive in first remission, Medicare Advantage, cycle 3",
            "active",
            r,
            [
                *_cycle_claims(r, 1, s, FLAT_28, today),
                *_cycle_claims(r, 2, s + timedelta(days=42), FLAT_28, today),
                *_cycle_claims(r, 3, s + timedelta(days=84), FLAT_28, today),
            ],
        )
    )

    # Pediatric relapsed, COG AALL1331 (BSA dosing: 30 kg, 135 cm -> 1.06 m², 16 mcg/day).
    s = ago(30)
    r = _request(
        1004,
        s,
        lob="medicaid",
        age_years=11,
        diagnosis={"relapsed_or_refractory": True},
        therapy={"regimen": "cog_aall1331"},
        clinical={"weight_kg": 30.0, "height_cm": 135.0},
    )
    cases.append(
        DemoCase(
            "aall1331-active",
            "pediatric relapse on COG AALL1331 (BSA dosing)",
            "active",
            r,
            _cycle_claims(r, 1, s, ((1, 28, 16),), today),
        )
    )

    # Infant ALL on the Interfant regimen.
    s = ago(10)
    r = _request(
        1005,
        s,
        age_years=0.6,
        diagnosis={"infant_all": True},
        therapy={"setting": "consolidation", "regimen": "infant_regimen"},
        clinical={"weight_kg": 7.5, "height_cm": 66.0},
    )
    cases.append(
        DemoCase(
            "infant-active",
            "infant ALL, Interfant regimen",
            "active",
            r,
            _cycle_claims(r, 1, s, ((1, 28, 5),), today),
        )
    )

    # Maintenance alternating with POMP: day 151 of 168, the renewal window is open.
    s = ago(150)
    r = _request(1006, s, therapy={"setting": "maintenance", "regimen": "pomp_alternating"})
    cases.append(
        DemoCase(
            "maint-window",
            "maintenance with POMP, renewal window open",
            "renewal_window",
            r,
            _cycle_claims(r, 1, s, FLAT_28, today),
        )
    )

    # Relapsed/refractory at day 196 of 210: response documented, renewal approved.
    s = ago(195)
    r = _request(
        1007, s, lob="medicare_advantage", age_years=71, diagnosis={"relapsed_or_refractory": True}
    )
    steps: list[Step] = []
    for c in range(5):
        doses = RR_CYCLE_1 if c == 0 else FLAT_28
        steps += _cycle_claims(r, c + 1, s + timedelta(days=42 * c), doses, today)
    steps += [
        _event(
            r,
            1,
            s + timedelta(days=170),
            "response_assessment",
            response_assessment={"result": "complete_response", "method": "flow_cytometry"},
        ),
        RenewalRequestInput(facts={}, requested_by=INTAKE),
    ]
    cases.append(
        DemoCase(
            "rr-renewed", "relapsed/refractory, renewed for continued therapy", "active", r, steps
        )
    )

    # Relapsed/refractory whose period ended without a renewal. Cases that are over on
    # arrival take no claims (a closed workflow takes no updates), so these two have none.
    s = ago(225)
    r = _request(1008, s, diagnosis={"relapsed_or_refractory": True})
    cases.append(
        DemoCase(
            "rr-expired",
            "relapsed/refractory, period ended without renewal",
            "expired",
            r,
        )
    )

    # Frontline induction with dasatinib (Ph+): one 28-day period, over -> completed.
    s = ago(40)
    r = _request(
        1009,
        s,
        diagnosis={"ph_status": "positive"},
        therapy={"setting": "frontline_induction", "combined_with": ["tki"], "tki": "dasatinib"},
    )
    cases.append(
        DemoCase(
            "fi-completed",
            "frontline induction with dasatinib, completed",
            "completed",
            r,
        )
    )

    # MRD level not stated: pended for diagnosis.mrd_percent.
    s = ago(3)
    r = _request(
        1010, s, diagnosis={"complete_remission": "second"}, therapy={"setting": "mrd_positive"}
    )
    cases.append(DemoCase("mrd-pended", "MRD level missing, pended", "pended", r))

    # Consolidation as a single agent, Ph−: the engine recommends denial; a reviewer decides.
    s = ago(1)
    r = _request(1011, s, therapy={"setting": "consolidation"})
    cases.append(
        DemoCase("cons-review", "single-agent consolidation, awaiting a reviewer", "in_review", r)
    )

    # 16-year-old, Ph+ frontline induction: AYA note -> clinical review, expedited, escalated.
    s = ago(0)
    r = _request(
        1012,
        s,
        lob="medicaid",
        urgency="expedited",
        age_years=16.2,
        diagnosis={"ph_status": "positive"},
        therapy={"setting": "frontline_induction", "combined_with": ["tki"], "tki": "dasatinib"},
    )
    cases.append(
        DemoCase(
            "aya-escalated",
            "AYA 16 y frontline induction, expedited review escalated",
            "in_review",
            r,
            config={"escalate_before_hours": 24},
        )
    )

    # Denied by a reviewer; the appeal window is open.
    s = ago(6)
    r = _request(1013, s, lob="medicaid", therapy={"setting": "consolidation"})
    cases.append(
        DemoCase(
            "cons-denied",
            "single-agent consolidation, denied by the reviewer",
            "denied",
            r,
            [
                ReviewDecisionInput(
                    reviewer_id=REVIEWER,
                    determination="deny",
                    rationale="single-agent consolidation is not a listed use",
                )
            ],
        )
    )

    # Denied, then appealed: another reviewer has the appeal.
    s = ago(12)
    r = _request(1014, s, therapy={"setting": "consolidation"})
    cases.append(
        DemoCase(
            "cons-appealed",
            "denied, appealed: in appeal review by a second reviewer",
            "in_review",
            r,
            [
                ReviewDecisionInput(
                    reviewer_id=REVIEWER,
                    determination="deny",
                    rationale="single-agent consolidation is not a listed use",
                ),
                AppealInput(
                    reason="treating team cites E1910 blocks; chemo intolerant",
                    requested_by=INTAKE,
                ),
            ],
        )
    )

    # Medicare Part B: not applicable, answered with the state's MAC.
    s = ago(2)
    r = _request(
        1015,
        s,
        lob="medicare_part_b",
        age_years=74,
        state="WA",
        diagnosis={"relapsed_or_refractory": True},
    )
    cases.append(DemoCase("partb", "Medicare Part B: not applicable", "not_applicable", r))

    # Pended, then withdrawn by the requester.
    s = ago(9)
    r = _request(
        1016, s, diagnosis={"complete_remission": "first"}, therapy={"setting": "mrd_positive"}
    )
    cases.append(
        DemoCase(
            "withdrawn",
            "pended, then withdrawn",
            "withdrawn",
            r,
            [WithdrawInput(reason="patient enrolled in a clinical trial", requested_by=INTAKE)],
        )
    )

    # Active consolidation discontinued after a grade 4 toxicity.
    s = ago(60)
    r = _request(
        1017,
        s,
        therapy={"setting": "consolidation", "combined_with": ["multiagent_chemotherapy"]},
    )
    cases.append(
        DemoCase(
            "discontinued",
            "consolidation discontinued after grade 4 ICANS",
            "discontinued",
            r,
            [
                *_cycle_claims(r, 1, s, FLAT_28, today),
                _event(
                    r, 1, s + timedelta(days=12), "toxicity", toxicity={"kind": "icans", "grade": 4}
                ),
                _event(r, 2, s + timedelta(days=14), "discontinued"),
            ],
        )
    )

    # Pended for relapse status, then the facts arrive: approved.
    s = ago(15)
    r = _request(1018, s, lob="medicaid", diagnosis={"relapsed_or_refractory": None})
    cases.append(
        DemoCase(
            "info-approved",
            "pended, facts received, approved",
            "active",
            r,
            [
                ProvideInfoInput(
                    facts={"diagnosis.relapsed_or_refractory": True}, requested_by=INTAKE
                ),
                *_cycle_claims(r, 1, s + timedelta(days=4), RR_CYCLE_1, today),
            ],
        )
    )

    # MRD-positive whose treatment paused for CRS: a reviewer extends the period 14 days.
    s = ago(70)
    r = _request(
        1019,
        s,
        diagnosis={"mrd_percent": 1.2, "complete_remission": "second"},
        therapy={"setting": "mrd_positive"},
    )
    cases.append(
        DemoCase(
            "mrd-extended",
            "MRD-positive, paused for CRS grade 3, period extended",
            "active",
            r,
            [
                *_cycle_claims(r, 1, s, FLAT_28, today),
                _event(
                    r, 1, s + timedelta(days=50), "toxicity", toxicity={"kind": "crs", "grade": 3}
                ),
                ExtendPeriodInput(
                    reviewer_id=REVIEWER, days=14, rationale="cycle 2 held 14 days for grade 3 CRS"
                ),
            ],
        )
    )

    # Reviewer approves a case the engine sent to review (AYA).
    s = ago(5)
    r = _request(
        1020,
        s,
        age_years=17.1,
        diagnosis={"ph_status": "positive"},
        therapy={"setting": "frontline_induction", "combined_with": ["tki"], "tki": "imatinib"},
    )
    cases.append(
        DemoCase(
            "aya-approved",
            "AYA 17 y, approved by the reviewer",
            "active",
            r,
            [
                ReviewDecisionInput(
                    reviewer_id=REVIEWER,
                    determination="approve",
                    rationale="AYA: adult protocol appropriate",
                ),
                *_cycle_claims(r, 1, s + timedelta(days=1), FRONTLINE, today),
            ],
        )
    )
    return cases


# --------------------------------------------------------------------------- loading


async def _settled(cases: CaseClient, case_id: str, expected: str, within_s: float) -> str:
    """The status once ``expected`` is reached (or as it is after ``within_s``).

    Timers that are already due (a renewal window that opened, a period that
    ended) run right after intake, so the expected status may take a moment.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        status = (await cases.status(case_id)).status
        if status == expected or loop.time() >= deadline:
            return status
        await asyncio.sleep(0.2)


async def _send(cases: CaseClient, case_id: str, step: Step) -> str | None:
    """Send one step; the refusal reason if the case refused it."""
    outcome: UpdateOutcome
    match step:
        case ClaimLine():
            answer = await cases.adjudicate_claim(case_id, step, sent_by=CLAIMS_SYSTEM)
            if answer.status == "denied":
                return f"claim {answer.claim_id}/{answer.line} denied {answer.carc_codes}"
            return None
        case ClinicalEvent():
            outcome = await cases.record_clinical_event(case_id, step, sent_by=CLINICAL_SYSTEM)
        case ReviewDecisionInput():
            outcome = await cases.decide_review(case_id, step)
        case AppealInput():
            outcome = await cases.appeal(case_id, step)
        case WithdrawInput():
            outcome = await cases.withdraw(case_id, step)
        case ProvideInfoInput():
            outcome = await cases.provide_info(case_id, step)
        case RenewalRequestInput():
            outcome = await cases.request_renewal(case_id, step)
        case ExtendPeriodInput():
            outcome = await cases.extend_period(case_id, step)
    return None if outcome.accepted else f"{type(step).__name__}: {outcome.reason}"


async def _load_one(cases: CaseClient, case: DemoCase) -> DemoResult:
    # The clocks of the case's own policy (its drug's), with the demo case's changes.
    config = cases.config_for(case.request).model_copy(update=case.config)
    submitted = await cases.submit(
        case.request, config=config, submitted_by=INTAKE, wait=timedelta(seconds=WAIT_FIRST_S)
    )
    refused: list[str] = []
    if submitted.created:
        for step in case.steps:
            reason = await _send(cases, submitted.case_id, step)
            if reason:
                refused.append(reason)
    status = await _settled(
        cases, submitted.case_id, case.expect, within_s=10.0 if submitted.created else 0.0
    )
    return DemoResult(case.case_id, case.title, submitted.created, status, case.expect, refused)


async def load_demo(
    client: Client,
    pool: asyncpg.Pool | None,
    settings: Settings,
    *,
    today: date | None = None,
    only: set[str] | None = None,
    concurrency: int = 4,
    quiet: bool = False,
) -> list[DemoResult]:
    """Start the demo cases (those not started yet) and drive them to their statuses."""
    from cases.client import CaseClient

    today = today or datetime.now(UTC).date()
    chosen = [c for c in demo_cases(today) if only is None or c.key in only]
    cases = CaseClient.from_settings(client, settings)
    gate = asyncio.Semaphore(concurrency)

    async def one(case: DemoCase) -> DemoResult:
        async with gate:
            try:
                return await _load_one(cases, case)
            except Exception as exc:  # one broken case must not stop the demo
                log.warning("demo case failed", case=case.case_id, error=type(exc).__name__)
                return DemoResult(case.case_id, case.title, False, "error", case.expect, [str(exc)])

    results = await asyncio.gather(*(one(c) for c in chosen))
    if not quiet:
        _print(results)
    return list(results)


def _print(results: list[DemoResult]) -> None:
    created = sum(r.created for r in results)
    lines = [f"demo: {created} case(s) started, {len(results) - created} already there"]
    for r in results:
        mark = "" if r.status == r.expected else f"  (expected {r.expected})"
        lines.append(f"  {r.case_id:<16} {r.status:<15} {r.title}{mark}")
    print("\n".join(lines), flush=True)
