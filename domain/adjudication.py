"""Claim lines against an authorization (POLICY.md, "Claims against an
authorization"; policy Sections I, II, VI and Appendix 1).

The checks run in order and the first that fails decides the answer, with a
Claim Adjustment Reason Code (CARC):

=====  ==========================================================  =====
order  check                                                       CARC
=====  ==========================================================  =====
1      same claim id + line seen before (identical: same answer)   16
2      received within the timely-filing limit of its date of      29
       service (days by line of business, policy data)
3      the policy's HCPCS and NDC (Section VI)                     15
4      a diagnosis code from Appendix 1                            11
5      date of service not after a reported death                  13
6      inside an approved period, not after a discontinuation,     197
       before the withdrawal
7      units within the period's authorized total (Section II)     198
8      units within the policy's limit per rolling window (II)     119
=====  ==========================================================  =====

Check 2 is what makes claims run-out work (POLICY.md, "Claims run-out"): a
line is judged by the same checks whenever it arrives, the case's status
does not matter, only the days from its date of service to the day the case
received it (``received_on``, the case's business day). The limit's last day
is ``date_of_service + limit`` (arriving on it is in time). A caller that gives
no ``received_on`` or no limit skips the check.

A withdrawal (``withdrawn_on``) covers dates of service before the day of the
withdrawal, as POLICY.md words it; a discontinuation covers its own day.

Checks 7 and 8 cut units rather than refuse the line: the excess is denied
and the rest goes on to the next check; a line partly allowed is
``partially_paid`` and carries the codes of every cut.

A reversal (void) is the line sent again with ``reversal: true``. It gives
back the units the original was allowed: its answer is ``status: "paid"``,
``reversal: true`` and ``allowed_units`` = minus those units (0 if the
original paid nothing), so the sum of ``allowed_units`` over a member's
ledger is the units paid. A reversal with no original line, or of another
content, is denied with CARC 16; a replayed reversal gets its first answer.
A line re-sent after its reversal is a different content (CARC 16): rebill
under a new line. A reversal only gives units back, it claims nothing: the
timely-filing limit does not apply to it (it is taken as long as the case
answers claims).
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field

from domain.claim import ClaimAnswer, ClaimLine, ClaimStatus
from domain.operators import normalize_code
from domain.policy import Policy, load_policy

CARC_MISSING_OR_DUPLICATE = "16"
CARC_TIMELY_FILING = "29"
CARC_NOT_AUTHORIZED_SERVICE = "15"
CARC_DIAGNOSIS = "11"
CARC_DEATH = "13"
CARC_NO_AUTHORIZATION = "197"
CARC_AUTHORIZATION_EXCEEDED = "198"
CARC_BENEFIT_MAXIMUM = "119"

REF_DUPLICATE = "Claims against an authorization (one answer per claim line)"
REF_TIMELY_FILING = "Claims against an authorization (claims run-out, timely filing)"


class PeriodUnits(BaseModel):
    """An approved period and the units already paid in it (Sections I, II)."""

    start: date
    end: date
    authorized_units: int
    paid_units: int = 0


class PriorLine(BaseModel):
    """The line already adjudicated under the same claim id + line number."""

    line: ClaimLine
    answer: ClaimAnswer


class ClaimContext(BaseModel):
    """Everything a claim line is judged against; loaded by the caller."""

    previous: PriorLine | None = None
    periods: list[PeriodUnits] = Field(default_factory=list)
    death_date: date | None = None
    discontinued_date: date | None = None
    withdrawn_on: date | None = None
    # Claims run-out: the day the case received the line and the timely-filing limit in
    # days (by line of business); either None skips the check.
    received_on: date | None = None
    timely_filing_days: int | None = None
    member_paid_units: list[tuple[date, int]] = Field(default_factory=list)
    policy_id: str | None = None


def is_replay(line: ClaimLine, ctx: ClaimContext) -> bool:
    """True when ``line`` was already answered: return that answer, count nothing."""
    return ctx.previous is not None and ctx.previous.line.same_content(line)


def filing_deadline(date_of_service: date, limit_days: int) -> date:
    """The last day a line for ``date_of_service`` is still received in time (inclusive)."""
    return date_of_service + timedelta(days=limit_days)


def filed_late(line: ClaimLine, ctx: ClaimContext) -> bool:
    """True when the line arrived after the timely-filing limit of its date of service."""
    if ctx.received_on is None or ctx.timely_filing_days is None:
        return False
    return ctx.received_on > filing_deadline(line.date_of_service, ctx.timely_filing_days)


def normalize_ndc(ndc: str) -> str | None:
    """An NDC as 11 digits (5-4-2) from ``55513-0160-01`` or ``55513016001``."""
    digits = ndc.replace("-", "").strip()
    if len(digits) != 11 or not digits.isdigit():
        return None
    return digits


def _ndc_covered(ndc: str | None, policy: Policy) -> bool:
    digits = normalize_ndc(ndc or "")
    if digits is None:
        return False
    return any(digits[:9] == product.replace("-", "") for product in policy.billing.ndc_products)


def rolling_room(paid: list[tuple[date, int]], day: date, limit: int, window_days: int) -> int:
    """Units a new line on ``day`` may still take: ``limit`` minus the largest sum of
    paid units over any ``window_days``-day window that contains ``day`` (Section II)."""
    span = window_days - 1
    low, high = day - timedelta(days=span), day + timedelta(days=span)
    by_day = [0] * (2 * span + 1)
    for when, units in paid:
        if low <= when <= high:
            by_day[(when - low).days] += units
    prefix = [0]
    for units in by_day:
        prefix.append(prefix[-1] + units)
    worst = max(prefix[k + window_days] - prefix[k] for k in range(span + 1))
    return limit - worst


def _answer(
    line: ClaimLine,
    allowed: int,
    carc: list[str],
    message: str,
    ref: str,
    reversal: bool = False,
) -> ClaimAnswer:
    denied = 0 if reversal else line.units - allowed
    status: ClaimStatus
    if reversal or allowed == line.units:
        status = "paid"
    elif allowed > 0:
        status = "partially_paid"
    else:
        status = "denied"
    return ClaimAnswer(
        claim_id=line.claim_id,
        line=line.line,
        status=status,
        allowed_units=allowed,
        denied_units=denied,
        carc_codes=carc,
        message=message,
        policy_ref=ref,
        reversal=reversal,
    )


def _reverse(line: ClaimLine, ctx: ClaimContext) -> ClaimAnswer:
    previous = ctx.previous
    if (
        previous is None
        or previous.line.reversal
        or not previous.line.model_copy(update={"reversal": True}).same_content(line)
    ):
        return _answer(
            line,
            0,
            [CARC_MISSING_OR_DUPLICATE],
            "Reversal refused: no paid line with this claim id, line number and content.",
            REF_DUPLICATE,
        )
    units = max(previous.answer.allowed_units, 0)
    return _answer(line, -units, [], f"Reversal: {units} units given back.", "II", reversal=True)


def adjudicate(line: ClaimLine, ctx: ClaimContext, policy: Policy | None = None) -> ClaimAnswer:
    """Answer one claim line (pure). See the module docstring for the order of checks."""
    policy = policy or load_policy(ctx.policy_id)
    if is_replay(line, ctx):
        assert ctx.previous is not None  # is_replay: the line was answered before
        return ctx.previous.answer
    if line.reversal:
        return _reverse(line, ctx)
    if ctx.previous is not None:
        return _answer(
            line,
            0,
            [CARC_MISSING_OR_DUPLICATE],
            "Claim id and line number already adjudicated with different content.",
            REF_DUPLICATE,
        )
    if filed_late(line, ctx):
        assert ctx.received_on is not None and ctx.timely_filing_days is not None
        deadline = filing_deadline(line.date_of_service, ctx.timely_filing_days)
        return _answer(
            line,
            0,
            [CARC_TIMELY_FILING],
            f"Received {ctx.received_on}, after the timely-filing limit of "
            f"{ctx.timely_filing_days} days from the date of service {line.date_of_service} "
            f"(last day {deadline}).",
            REF_TIMELY_FILING,
        )
    billing = policy.billing
    hcpcs_ok = line.hcpcs.strip().upper() in {h.upper() for h in billing.hcpcs}
    if not hcpcs_ok or not _ndc_covered(line.ndc, policy):
        return _answer(
            line,
            0,
            [CARC_NOT_AUTHORIZED_SERVICE],
            f"HCPCS {line.hcpcs} / NDC {line.ndc} is not under this authorization "
            f"({', '.join(billing.hcpcs)}, NDC {', '.join(billing.ndc_products)}-xx).",
            billing.ref,
        )
    covered = {normalize_code(c) for c in policy.covered_icd10.codes}
    if not any(normalize_code(c) in covered for c in line.icd10_codes):
        return _answer(
            line,
            0,
            [CARC_DIAGNOSIS],
            "No diagnosis code from Appendix 1 on the line.",
            policy.covered_icd10.ref,
        )
    dos = line.date_of_service
    if ctx.death_date is not None and dos > ctx.death_date:
        return _answer(
            line, 0, [CARC_DEATH], "Date of service after the reported date of death.", "I"
        )
    period = next((p for p in ctx.periods if p.start <= dos <= p.end), None)
    why = None
    if period is None:
        why = "outside every approved period"
    elif ctx.discontinued_date is not None and dos > ctx.discontinued_date:
        why = "after discontinuation"
    elif ctx.withdrawn_on is not None and dos >= ctx.withdrawn_on:
        why = f"on or after the withdrawal ({ctx.withdrawn_on})"
    if why is not None:
        return _answer(line, 0, [CARC_NO_AUTHORIZATION], f"Date of service {why}.", "I")
    assert period is not None  # else ``why`` says so
    allowed = line.units
    carc: list[str] = []
    notes: list[str] = []
    ref = policy.units.ref
    period_room = max(period.authorized_units - period.paid_units, 0)
    if allowed > period_room:
        carc.append(CARC_AUTHORIZATION_EXCEEDED)
        notes.append(
            f"{allowed - period_room} units over the period's {period.authorized_units} "
            "authorized units"
        )
        allowed = period_room
    units = policy.units
    window_room = max(
        rolling_room(ctx.member_paid_units, dos, units.max_units_per_window, units.window_days),
        0,
    )
    if allowed > window_room:
        carc.append(CARC_BENEFIT_MAXIMUM)
        notes.append(
            f"{allowed - window_room} units over {units.max_units_per_window} units per "
            f"{units.window_days} days"
        )
        allowed = window_room
    message = f"{allowed} of {line.units} units allowed"
    if notes:
        message += " (denied: " + "; ".join(notes) + ")"
    return _answer(line, allowed, carc, message + ".", ref)
