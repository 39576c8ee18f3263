"""The bench's figures as one plain-text table (the JSON holds the same numbers)."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _row(rows: list[tuple[str, ...]], section: str, metric: str, *cells: Any) -> None:
    """One row; cells left out (the minimal floor's, outside decisions and claims) are "-"."""
    cells = cells + (None,) * (5 - len(cells))
    rows.append((section, metric, *(_fmt(c) for c in cells)))


def render_table(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    s = meta.get("settings", {})
    host = meta.get("host", {})
    rows: list[tuple[str, ...]] = [
        ("section", "metric", "ours", "floor", "ratio", "minimal floor", "ratio")
    ]

    dec = results.get("decisions")
    if dec:
        o, f, m = dec.get("ours", {}), dec.get("floor", {}), dec.get("minimal_floor", {})
        name = f"decisions N={dec['n']} C={dec['concurrency']}"
        _row(rows, name, "decisions/s", o.get("per_second"), f.get("per_second"),
             dec.get("decisions_ratio"), m.get("per_second"),
             dec.get("minimal_floor_ratio"))  # fmt: skip
        for q in ("p50", "p95", "p99"):
            ratio = dec.get("p99_ratio") if q == "p99" else None
            _row(rows, "", f"{q} submit-to-decision ms", o.get(f"{q}_ms"), f.get(f"{q}_ms"),
                 ratio, m.get(f"{q}_ms"), None)  # fmt: skip
        _row(rows, "", "to decision", dec.get("activities_before_decision"), "same, no-ops",
             None, dec.get("minimal_floor_plan"), None)  # fmt: skip
        _row(rows, "", "worker CPU ms / decision", o.get("worker_cpu_ms_per_op"),
             f.get("worker_cpu_ms_per_op"), None, m.get("worker_cpu_ms_per_op"),
             None)  # fmt: skip
        _row(rows, "", "server CPU ms / decision", o.get("server_cpu_ms_per_op"),
             f.get("server_cpu_ms_per_op"), None, m.get("server_cpu_ms_per_op"),
             None)  # fmt: skip
        rec = o.get("recorded") or {}
        if rec:
            _row(rows, "", "decision rows / cases", f"{rec.get('rows')}/{rec.get('cases')}",
                 None, None)  # fmt: skip

    claims = results.get("claims")
    if claims:
        o, f, m = claims.get("ours", {}), claims.get("floor", {}), claims.get("minimal_floor", {})
        name = f"claims {claims['lines']} lines, {claims['cases']} cases"
        _row(rows, name, "lines/s", o.get("per_second"), f.get("per_second"),
             claims.get("claims_ratio"), m.get("per_second"),
             claims.get("minimal_floor_ratio"))  # fmt: skip
        per_line = claims.get("activities_per_line") or {}
        _row(rows, "", "to answer", per_line.get("before_answer"), "same, no-ops", None,
             claims.get("minimal_floor_plan"), None)  # fmt: skip
        _row(rows, "", "p50 ms", o.get("p50_ms"), f.get("p50_ms"), None, m.get("p50_ms"), None)
        _row(rows, "", "p99 ms", o.get("p99_ms"), f.get("p99_ms"), claims.get("p99_ratio"),
             m.get("p99_ms"), None)  # fmt: skip
        _row(rows, "", "worker CPU ms / line", o.get("worker_cpu_ms_per_op"),
             f.get("worker_cpu_ms_per_op"), None, m.get("worker_cpu_ms_per_op"),
             None)  # fmt: skip
        _row(rows, "", "server CPU ms / line", o.get("server_cpu_ms_per_op"),
             f.get("server_cpu_ms_per_op"), None, m.get("server_cpu_ms_per_op"),
             None)  # fmt: skip
        answers = o.get("answers") or {}
        if answers:
            _row(rows, "", "answers", ", ".join(f"{k} {v}" for k, v in sorted(answers.items())),
                 None, None)  # fmt: skip

    life = results.get("lifecycle")
    if life:
        if "skipped" in life:
            _row(rows, "lifecycle", "skipped", life["skipped"], None, None)
        else:
            _row(rows, "lifecycle (time skipping)", "wall s / run", life.get("wall_s_per_run"),
                 None, None)  # fmt: skip
            _row(rows, "", "runs (continue-as-new)", life.get("workflow_runs"), None, None)
            _row(rows, "", "history events / run (max)", life.get("max_events_per_run"),
                 None, None)  # fmt: skip
            _row(rows, "", "history events, all runs", life.get("history_events_total"),
                 None, None)  # fmt: skip
            _row(rows, "", "claims / cycles / renewals", life.get("shape"), None, None)

    open_ = results.get("open_cases")
    if open_:
        o, f = open_.get("ours", {}), open_.get("floor", {})
        _row(rows, f"open cases ({open_['target']:,})", "open", o.get("open"), f.get("open"), None)
        _row(rows, "", "worker RSS MB", o.get("worker_rss_mb"), f.get("worker_rss_mb"),
             open_.get("worker_rss_ratio"))  # fmt: skip
        _row(rows, "", "worker peak RSS MB", o.get("worker_peak_rss_mb"),
             f.get("worker_peak_rss_mb"), None)  # fmt: skip
        _row(rows, "", "server RSS MB", o.get("server_rss_mb"), f.get("server_rss_mb"), None)
        growth = o.get("worker_rss_growth") or []
        if len(growth) > 2:
            _row(rows, "", "worker RSS MB as cases open",
                 " ".join(f"{g['open']}:{g['worker_rss_mb']:.0f}" for g in growth), None,
                 None)  # fmt: skip

    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"priorauth bench: {host.get('cpus')} CPUs, load {host.get('load_before')} -> "
        f"{meta.get('load_after')}, {meta.get('wall_s')} s"
        + (" (quick)" if meta.get("quick") else ""),
        f"settings: {s}",
        "",
    ]
    for i, r in enumerate(rows):
        lines.append(
            "  ".join(
                c.ljust(widths[j]) if j < 2 else c.rjust(widths[j]) for j, c in enumerate(r)
            ).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    goals = results.get("goals") or {}
    if goals:
        lines += ["", "goals:"]
        for name, g in goals.items():
            mark = {True: "met", False: "MISSED", None: "not measured"}[g.get("met")]
            lines.append(f"  {mark:12} {name} (value {_fmt(g.get('value'))})")
    return "\n".join(lines)
