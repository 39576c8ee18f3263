"""Activity options the case uses: retries and timeouts (DESIGN.md, Temporal specifics).

Only infrastructure errors are retried (DESIGN.md, Style); activities are
idempotent, keyed writes, so a retry is harmless.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60))
SHORT = timedelta(seconds=30)
NOTICE_TIMEOUT = timedelta(minutes=5)
NOTICE_HEARTBEAT = timedelta(seconds=60)
# A local activity retried past this backs off on a timer instead of holding the workflow
# task open: while PostgreSQL is away, the case still answers queries (its status).
LOCAL_RETRY_THRESHOLD = timedelta(milliseconds=500)
