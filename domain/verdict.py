"""Three-valued (Kleene) verdicts (POLICY.md, "Three-valued evaluation and the outcome").

Verdicts are small ints so that ``all`` is ``min`` and ``any`` is ``max``:
any(met) = met; all(any not met) = not met; unknown otherwise. ``not`` swaps
met and not met and keeps unknown.
"""

from __future__ import annotations

from typing import Literal

NOT_MET = 0
UNKNOWN = 1
MET = 2

NAMES: tuple[Literal["not_met", "unknown", "met"], ...] = ("not_met", "unknown", "met")
