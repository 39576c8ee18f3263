"""One case as a picture: periods (with the cycle numbers each covers), cycles (treatment
and rest days), claims and units.

``render_timeline(TimelineData) -> str`` is a pure function from a plain model
to a standalone SVG document (no fonts, scripts or external references), used
by ``GET /cases/{id}/timeline.svg`` and ``priorauth timeline``. Every value
that reaches the document goes through :func:`_attr` (attribute values, quotes
included) or :func:`_esc` (text), so a request id holding ``"`` or ``<`` stays
text and can never open an attribute (``onload=``) or an element. The units
panel draws the rolling sum of allowed units over the policy's window against
its Section II limit (Blincyto: 980 per 42 consecutive days); the drug, the
limit and the window come from the case's policy (``TimelineData``).
"""

from __future__ import annotations

from datetime import date, timedelta
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel, Field


class TimelinePeriod(BaseModel):
    start: date
    end: date
    kind: str = "initial"
    # The cycles the period covers, by number (Section I: numbered on from prior cycles).
    first_cycle: int | None = None
    cycles: int | None = None

    def cycle_span(self) -> str:
        """The cycles covered, ``cycles 4–6`` or ``cycle 9``; "" when not known."""
        if self.first_cycle is None or not self.cycles:
            return ""
        last = self.first_cycle + self.cycles - 1
        return f"cycle {last}" if self.cycles == 1 else f"cycles {self.first_cycle}–{last}"


class TimelineCycle(BaseModel):
    cycle: int
    start: date
    cycle_days: int
    treatment_days: int
    phase: str = ""


class TimelineClaim(BaseModel):
    claim_id: str
    line: int
    date_of_service: date
    units: int
    allowed_units: int
    status: str
    reversal: bool = False


class TimelineData(BaseModel):
    """Everything the picture shows; built from the case query, the claims ledger and the
    case's policy (its drug, unit limit and window: Section II)."""

    case_id: str
    drug: str
    max_units_per_window: int
    window_days: int
    status: str
    track: str | None = None
    as_of: date | None = None
    periods: list[TimelinePeriod] = Field(default_factory=list)
    cycles: list[TimelineCycle] = Field(default_factory=list)
    claims: list[TimelineClaim] = Field(default_factory=list)


# layout
WIDTH = 1100
LEFT = 150
RIGHT = 30
TOP = 64
ROW_H = 34
CHART_H = 150

PERIOD_COLORS = {"initial": "#2b6cb0", "renewal": "#2f855a", "extension": "#b7791f"}
CLAIM_COLORS = {"paid": "#2f855a", "partially_paid": "#dd6b20", "denied": "#c53030"}
TREATMENT = "#6b46c1"
REST = "#d6bcfa"


def rolling_units(
    claims: list[TimelineClaim], first: date, last: date, window_days: int
) -> list[tuple[date, int]]:
    """Allowed units in the ``window_days`` consecutive days ending on each day (reversals
    give back)."""
    by_day: dict[date, int] = {}
    for c in claims:
        by_day[c.date_of_service] = by_day.get(c.date_of_service, 0) + c.allowed_units
    out: list[tuple[date, int]] = []
    total = 0
    day = first - timedelta(days=window_days - 1)
    window: list[int] = []
    while day <= last:
        units = by_day.get(day, 0)
        window.append(units)
        total += units
        if len(window) > window_days:
            total -= window.pop(0)
        if day >= first:
            out.append((day, total))
        day += timedelta(days=1)
    return out


def _span(data: TimelineData) -> tuple[date, date]:
    days: list[date] = []
    for p in data.periods:
        days += [p.start, p.end]
    for c in data.cycles:
        days += [c.start, c.start + timedelta(days=max(c.cycle_days, 1) - 1)]
    days += [c.date_of_service for c in data.claims]
    if data.as_of:
        days.append(data.as_of)
    if not days:
        today = data.as_of or date.today()
        return today - timedelta(days=30), today + timedelta(days=30)
    first, last = min(days), max(days)
    if first == last:
        last = first + timedelta(days=1)
    return first, last


class _Scale:
    def __init__(self, first: date, last: date) -> None:
        self.first = first
        self.days = (last - first).days + 1
        self.px = (WIDTH - LEFT - RIGHT) / self.days

    def x(self, day: date) -> float:
        return LEFT + (day - self.first).days * self.px

    def w(self, days: int) -> float:
        return max(days * self.px, 1.0)


def _esc(value: object) -> str:
    """Element text: ``&``, ``<`` and ``>`` escaped."""
    return escape(str(value))


def _attr(value: object) -> str:
    """A whole attribute value, quotes included: ``"…"`` with ``"``, ``&``, ``<``, ``>``
    and whitespace escaped, so no value can end the attribute or start another."""
    return quoteattr(str(value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _attrs(**attrs: object) -> str:
    return "".join(f" {k.replace('_', '-')}={_attr(v)}" for k, v in attrs.items())


def _text(x: float, y: float, s: str, size: int = 12, anchor: str = "start", **attrs: str) -> str:
    extra = _attrs(font_size=size, text_anchor=anchor, **attrs)
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{_esc(s)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "", **attrs: str) -> str:
    extra = _attrs(fill=fill, **attrs)
    tip = f"<title>{_esc(title)}</title>" if title else ""
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"{extra}>{tip}</rect>'


def _month_ticks(scale: _Scale, last: date) -> list[date]:
    ticks = []
    d = date(scale.first.year, scale.first.month, 1)
    while d <= last:
        if d >= scale.first:
            ticks.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return ticks


def render_timeline(data: TimelineData) -> str:
    """The SVG document for one case."""
    first, last = _span(data)
    scale = _Scale(first, last)
    rows_top = TOP + 10
    period_y = rows_top
    cycle_y = period_y + ROW_H
    claim_y = cycle_y + ROW_H
    chart_top = claim_y + ROW_H + 24
    axis_y = chart_top + CHART_H
    height = axis_y + 56
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" role="img">',
        # The accessible name; caller-supplied values are only ever element text.
        f"<title>{_esc(f'timeline of {data.case_id} ({data.drug})')}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(LEFT, 24, f"{data.case_id} · {data.drug}", 16, font_weight="bold"),
        _text(
            LEFT,
            44,
            f"status {data.status} · track {data.track or '—'} · "
            f"{first.isoformat()} → {last.isoformat()}",
            12,
            fill="#4a5568",
        ),
    ]
    # month grid
    for tick in _month_ticks(scale, last):
        x = scale.x(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{rows_top - 4}" x2="{x:.1f}" y2="{axis_y}" '
            'stroke="#edf2f7" stroke-width="1"/>'
        )
        out.append(_text(x, axis_y + 16, tick.strftime("%b %Y"), 10, "middle", fill="#4a5568"))

    # row labels
    for y, label in (
        (period_y, "periods"),
        (cycle_y, "cycles"),
        (claim_y, "claims"),
        (chart_top + 12, f"units / {data.window_days} days"),
    ):
        out.append(_text(10, y + 18, label, 12, fill="#2d3748"))

    # periods
    for p in data.periods:
        days = (p.end - p.start).days + 1
        color = PERIOD_COLORS.get(p.kind, "#4a5568")
        span = p.cycle_span()
        covers = f", {span}" if span else ""
        title = f"{p.kind} period {p.start} – {p.end} ({days} days{covers})"
        out.append(
            _rect(scale.x(p.start), period_y + 4, scale.w(days), ROW_H - 10, color, title, rx="3")
        )
        if scale.w(days) > 90:
            label = f"{p.kind} → {p.end}" + (f" · {span}" if span and scale.w(days) > 200 else "")
            out.append(_text(scale.x(p.start) + 4, period_y + 21, label, 11, fill="#fff"))

    # cycles: treatment days then rest days
    for c in data.cycles:
        treat = max(min(c.treatment_days, c.cycle_days), 0)
        rest = max(c.cycle_days - treat, 0)
        x = scale.x(c.start)
        label = f"cycle {c.cycle} {c.phase}".strip()
        out.append(
            _rect(
                x,
                cycle_y + 4,
                scale.w(treat),
                ROW_H - 10,
                TREATMENT,
                f"{label}: treatment days 1–{treat} from {c.start}",
            )
        )
        if rest:
            out.append(
                _rect(
                    x + treat * scale.px,
                    cycle_y + 4,
                    scale.w(rest),
                    ROW_H - 10,
                    REST,
                    f"{label}: rest days {treat + 1}–{c.cycle_days}",
                )
            )
        out.append(_text(x + 3, cycle_y + 21, f"C{c.cycle}", 11, fill="#fff"))

    # claims
    for claim in data.claims:
        cx = scale.x(claim.date_of_service) + scale.px / 2
        color = CLAIM_COLORS.get(claim.status, "#4a5568")
        fill = "none" if claim.reversal else color
        title = (
            f"{claim.claim_id}/{claim.line} {claim.date_of_service}: "
            f"{'reversal, ' if claim.reversal else ''}"
            f"{claim.units} billed, {claim.allowed_units} allowed ({claim.status})"
        )
        out.append(
            f'<circle cx="{cx:.1f}" cy="{claim_y + ROW_H / 2:.1f}" r="5"'
            f"{_attrs(fill=fill, stroke=color)}"
            f' stroke-width="2"><title>{_esc(title)}</title></circle>'
        )

    # units against the policy's window
    # The window is drawn up to today (or the last claim): later days are not known yet.
    known = [c.date_of_service for c in data.claims] + ([data.as_of] if data.as_of else [])
    series_end = min(last, max(known)) if known else last
    window = data.window_days
    series = rolling_units(data.claims, first, series_end, window) if series_end >= first else []
    limit = data.max_units_per_window
    peak = max([u for _, u in series] + [limit])
    top = peak * 1.1 or 1

    def y_of(units: int) -> float:
        return axis_y - units / top * CHART_H

    out.append(
        f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#a0aec0"/>'
    )
    ly = y_of(limit)
    out.append(
        f'<line x1="{LEFT}" y1="{ly:.1f}" x2="{WIDTH - RIGHT}" y2="{ly:.1f}" stroke="#c53030" '
        'stroke-dasharray="6 4"/>'
    )
    out.append(
        _text(WIDTH - RIGHT, ly - 4, f"{limit} units / {window} days", 10, "end", fill="#c53030")
    )
    if series:
        points = [f"{LEFT:.1f},{axis_y:.1f}"]
        for day, units in series:
            points.append(f"{scale.x(day) + scale.px / 2:.1f},{y_of(units):.1f}")
        points.append(f"{scale.x(series[-1][0]) + scale.px / 2:.1f},{axis_y:.1f}")
        out.append(
            f'<polygon points="{" ".join(points)}" fill="#bee3f8" stroke="#2b6cb0" '
            'stroke-width="1.5" opacity="0.9"/>'
        )
        worst_day, worst = max(series, key=lambda s: s[1])
        if worst:
            out.append(
                _text(
                    scale.x(worst_day),
                    y_of(worst) - 4,
                    f"{worst} (peak, window ending {worst_day})",
                    10,
                    "middle",
                    fill="#2b6cb0",
                )
            )

    # today
    if data.as_of and first <= data.as_of <= last:
        x = scale.x(data.as_of)
        out.append(
            f'<line x1="{x:.1f}" y1="{rows_top - 6}" x2="{x:.1f}" y2="{axis_y}" '
            'stroke="#1a202c" stroke-width="1.5" stroke-dasharray="2 3"/>'
        )
        out.append(_text(x, rows_top - 10, f"today {data.as_of}", 10, "middle"))

    # legend
    ly2 = axis_y + 38
    legend = [
        (TREATMENT, "treatment days"),
        (REST, "rest days"),
        (CLAIM_COLORS["paid"], "paid"),
        (CLAIM_COLORS["partially_paid"], "partially paid"),
        (CLAIM_COLORS["denied"], "denied"),
    ]
    x = LEFT
    for color, label in legend:
        out.append(_rect(x, ly2 - 9, 10, 10, color))
        out.append(_text(x + 14, ly2, label, 11))
        x += 30 + 7 * len(label)
    out.append("</svg>")
    return "\n".join(out)
