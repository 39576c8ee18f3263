"""The synthetic second drug of the tests: Testomab (J9999), a made-up policy kept in
tests/policies/ and served beside the real Blincyto policy (README, "Adding a drug").

``two_drugs()`` is a registry of both. ``serving(monkeypatch, registry)`` makes it the
process's registry (``domain.policy_registry.default_registry``), so request validation
(``domain.coverage``), the starter and ``case_config_for`` see the second drug as a
deployment with both files in ``domain/policies/`` would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain import policy_registry
from domain.policy import POLICY_DIR
from domain.policy_registry import PolicyRegistry

SYNTHETIC_DIR = Path(__file__).resolve().parent / "policies"
TESTOMAB = "J9999"
TESTOMAB_NDC = "99999-0001-01"
TESTOMAB_REF = "TEST-SYNTHETIC-TESTOMAB@2026-01-01"


def two_drugs() -> PolicyRegistry:
    """Blincyto's real policy and the synthetic Testomab one, in one registry."""
    return PolicyRegistry.from_files(
        [*sorted(POLICY_DIR.glob("*.yaml")), *sorted(SYNTHETIC_DIR.glob("*.yaml"))]
    )


def serving(monkeypatch: Any, registry: PolicyRegistry) -> PolicyRegistry:
    """Make ``registry`` the process's policy registry for one test."""
    monkeypatch.setattr(policy_registry, "default_registry", lambda: registry)
    return registry


def as_testomab() -> dict[str, Any]:
    """What turns an example Blincyto request (examples/example_requests.py) into a
    Testomab one."""
    return {"service": {"hcpcs": TESTOMAB, "ndc": TESTOMAB_NDC}}
