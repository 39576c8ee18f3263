from __future__ import annotations

from datetime import date

import pytest

from domain.engine import decide
from domain.policy import Policy, load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def evaluate(policy):
    """Decide a request as of its receipt day (the CLI's default)."""

    def run(req, *, as_of: date | None = None, prior_cycles: int = 0, **kw):
        return decide(
            req, policy, as_of=as_of or req.received_at.date(), prior_cycles=prior_cycles, **kw
        )

    return run
