"""The lifecycle section: the full relapsed/refractory scenario on the time-skipping server.

Runs through ``priorauth simulate``'s own machinery (``commands.simulate``),
so what is timed is what ``priorauth simulate`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


async def run_lifecycle(scenario: Path | None, *, runs: int = 1) -> dict[str, Any]:
    return {"skipped": "commands.simulate has no simulation machinery yet"}
