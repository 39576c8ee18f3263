"""`priorauth bench --quick` runs end to end and writes every section with its floor ratios.

No timing thresholds here: figures on a shared machine vary; the goals are
judged by the full bench (``priorauth bench``), not by the test suite.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _ratios(node, path=""):
    """Every key containing "ratio", at any depth, with its value."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            if "ratio" in key:
                yield where, value
            yield from _ratios(value, where)


def test_quick_bench_writes_the_four_sections_with_positive_floor_ratios(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "cli.py"), "bench", "--quick", "-q", "--json",
         str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "decisions/s" in run.stdout and "goals:" in run.stdout

    figures = json.loads(out.read_text())
    for section in ("decisions", "claims", "lifecycle", "open_cases"):
        assert section in figures, f"no {section} section"
    assert "skipped" not in figures["lifecycle"], figures["lifecycle"]

    ratios = dict(_ratios(figures))
    for key in ("decisions.decisions_ratio", "claims.claims_ratio"):
        assert key in ratios, f"{key} missing; ratios: {ratios}"
    assert all(isinstance(v, int | float) and v > 0 for v in ratios.values()), ratios

    decisions = figures["decisions"]
    for who in ("ours", "floor"):
        assert decisions[who]["count"] == figures["meta"]["settings"]["decisions"]
        assert decisions[who]["errors"] == 0
        assert decisions[who]["p99_ms"] >= decisions[who]["p50_ms"] > 0
    assert decisions["ours"]["recorded"]["rows"] == decisions["ours"]["count"]
    assert figures["claims"]["ours"]["errors"] == 0
    open_cases = figures["open_cases"]["ours"]
    assert open_cases["open"] >= figures["meta"]["settings"]["open_cases"]
    # Half of them withdrawn: ended, yet still open (running) in their claims run-out.
    assert open_cases["withdrawn_into_run_out"] == figures["meta"]["settings"]["open_cases"] // 2
    assert open_cases["statuses"].get("withdrawn") == open_cases["withdrawn_into_run_out"]
    assert figures["open_cases"]["ours"]["worker_rss_mb"] > 0
    assert figures["lifecycle"]["history_events_total"] > 0
