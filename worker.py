"""The composition root: settings, logging, Temporal client, PostgreSQL pool, worker.

Everything with a side effect is built here and handed to what needs it;
nothing else in the project reads the environment or opens connections on
its own. ``python worker.py`` runs one worker against TEMPORAL_ADDRESS and
DATABASE_URL (or the embedded PostgreSQL under DATA_DIR).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain import policy_registry
from domain.policy_registry import PolicyRegistry
from infra.logging import configure_logging
from infra.settings import Settings

if TYPE_CHECKING:
    from domain.policy import Policy
    from domain.request import PARequest
    from workflows.messages import CaseConfig

log = structlog.get_logger("worker")

WORKFLOW_CODE = ("workflows",)  # the packages our workflow code lives in
PROGRAM = "priorauth worker"


def build_activities(
    pool: asyncpg.Pool, settings: Settings, policies: PolicyRegistry | None = None
) -> list[Callable[..., Any]]:
    """Every activity, as bound methods of classes built with their dependencies.

    ``policies``: the policy registry every case is decided under, each by its own
    ``policy_ref`` (default: every file of ``domain/policies/``, the same registry
    requests are checked against).
    """
    from activities.channels import RestHookChannel, make_channel
    from activities.claims_ledger import ClaimsLedger
    from activities.evaluation import EvaluationActivities
    from activities.fhir_subscriptions import SubscriptionFanOut
    from activities.notifications import Notifier
    from activities.store import CaseStore

    policies = policies or policy_registry.default_registry()
    evaluation = EvaluationActivities(policies)
    store = CaseStore(pool, policies)
    ledger = ClaimsLedger(pool, policies)
    attempts = settings.notify_max_attempts
    # FHIR Subscriptions: a decision of a case that waited notifies the matching
    # subscriptions through the outbox, by rest-hook, with the same attempts and backoff.
    rest_hook = Notifier(pool, RestHookChannel(pool), policies, max_attempts=attempts)
    subscriptions = SubscriptionFanOut(pool, rest_hook, policies)
    notifier = Notifier(
        pool, make_channel(settings), policies, max_attempts=attempts, followers=[subscriptions]
    )
    return [
        *evaluation.activities(),
        *store.activities(),
        *ledger.activities(),
        *notifier.activities(),
    ]


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _or(setting: int | None, policy_value: int) -> int:
    return policy_value if setting is None else setting


def case_config(
    settings: Settings, policy: Policy | None = None, *, clock_anchor: datetime | None = None
) -> CaseConfig:
    """The clocks of a new case under ``policy`` (workflows cannot read files or the
    environment, so a case starts with its clocks written out).

    They come from the case's policy data (DESIGN.md, Case statuses; POLICY.md,
    Decision clocks and appeals): ``lines_of_business`` (decision hours by urgency,
    appeal windows) and ``case_defaults`` (pend deadline, renewal reminders). A
    setting overrides one only when it is set (``Settings``: ``None`` unless the
    environment names it), as the timely-filing limits already did. Policy terms
    (periods, cycles, units, the renewal window of Section IV, the timely-filing
    limit itself) are not here: the case gets them from the policy data through its
    activities. ``policy`` defaults to the legacy Blincyto policy (a caller that has
    the request uses ``case_config_for``); ``clock_anchor`` only for simulations and
    tests.
    """
    from workflows.messages import CaseConfig, DecisionClock

    if policy is None:
        policy = policy_registry.default_registry().resolve(None)
    lobs = policy.lines_of_business
    defaults = policy.case_defaults
    appeal_overrides = {
        "commercial": settings.appeal_window_days_commercial,
        "medicaid": settings.appeal_window_days_medicaid,
        "medicare_advantage": settings.appeal_window_days_medicare_advantage,
    }
    reminders = (
        [int(d) for d in _csv(settings.renewal_reminder_days)]
        if settings.renewal_reminder_days is not None
        else defaults.renewal_reminder_days_before_end
    )
    return CaseConfig(
        pend_deadline_days=_or(settings.pend_deadline_days, defaults.pend_deadline_days),
        decision_clocks={
            lob: DecisionClock(
                standard_hours=_or(
                    settings.decision_clock_standard_hours, rules.decision_hours["standard"]
                ),
                expedited_hours=_or(
                    settings.decision_clock_expedited_hours, rules.decision_hours["expedited"]
                ),
            )
            for lob, rules in lobs.items()
        },
        escalate_before_hours=settings.escalate_before_hours,
        appeal_window_days={
            lob: _or(appeal_overrides.get(lob), rules.appeal_window_days)
            for lob, rules in lobs.items()
        },
        timely_filing_days={
            lob: days
            for lob, days in {
                "commercial": settings.timely_filing_days_commercial,
                "medicaid": settings.timely_filing_days_medicaid,
                "medicare_advantage": settings.timely_filing_days_medicare_advantage,
            }.items()
            if days is not None
        },
        renewal_reminder_days=sorted(set(reminders), reverse=True),
        auto_deny_lines_of_business=_csv(settings.auto_deny_lines_of_business),
        clock_anchor=clock_anchor,
    )


def case_config_for(
    settings: Settings,
    request: PARequest,
    *,
    policies: PolicyRegistry | None = None,
    clock_anchor: datetime | None = None,
) -> CaseConfig:
    """The clocks of a new case for ``request``: under the version of its drug's policy in
    effect on its day of receipt (the one the starter picks)."""
    registry = policies or policy_registry.default_registry()
    policy = registry.for_drug(request.service.hcpcs or "", request.received_at.date())
    return case_config(settings, policy, clock_anchor=clock_anchor)


def workflow_runner(*modules: str) -> SandboxedWorkflowRunner:
    """The sandbox, with our workflow code passed through instead of re-imported per run.

    The default sandbox imports the workflow's module afresh for every workflow run
    it starts, and ``@workflow.defn`` walks the whole class again each time: a
    quarter of this worker's CPU per decision, and a module copy per cached case.
    ``workflows/`` holds no module state (its mixins were already passed through),
    so one import serves every run. The sandbox still restricts builtins while
    workflow code runs; determinism is guarded by replaying every workflow test's
    history under the default, re-importing sandbox (tests/workflows, tests/replay)
    and by tests/unit/test_workflow_determinism.py.
    """
    passed = modules or WORKFLOW_CODE
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passed)
    )


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    *,
    task_queue: str | None = None,
    policies: PolicyRegistry | None = None,
    **worker_options: Any,
) -> Worker:
    from workflows import WORKFLOWS

    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(pool, settings, policies),
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=4),
        workflow_runner=workflow_runner(),
        **worker_options,
    )


async def connect_client(settings: Settings) -> Client:
    from infra.codec import codec_from_settings, encryption_off
    from infra.temporal import connect, tls_config

    codec = codec_from_settings(settings)
    if codec is None and not encryption_off(settings.codec_keys):
        log.warning(
            "CODEC_KEYS is not set: payloads, PHI included, go to Temporal in clear; "
            "set keys (priorauth keygen), or CODEC_KEYS=none to choose this"
        )
    return await connect(
        settings.temporal_address,
        settings.temporal_namespace,
        codec=codec,
        tls=tls_config(settings),
    )


async def prepare_database(settings: Settings) -> str:
    """Migrate (as the migration role) and grant the runtime role; the runtime URL.

    ``MIGRATION_DATABASE_URL`` (default ``DATABASE_URL``) runs migrations and grants;
    the pool connects with ``DATABASE_URL``, the runtime role (README, Security).
    """
    from infra.migrations import apply_migrations
    from infra.postgres import database_url

    url = database_url(settings.database_url, settings.data_dir)
    await apply_migrations(
        settings.migration_database_url or url, runtime_role=settings.database_runtime_role
    )
    return url


async def open_pool(settings: Settings) -> asyncpg.Pool:
    from infra.postgres import create_pool

    url = await prepare_database(settings)
    return await create_pool(url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run one worker until ``stop`` is set (or SIGINT/SIGTERM when run as a program).

    Outside dev and test, settings that would leak PHI stop it before it connects
    (infra/secure_config.py).
    """
    from infra.secure_config import refuse_insecure, warnings

    refuse_insecure(settings)
    for warning in warnings(settings):
        log.warning(warning)
    stop = stop or asyncio.Event()
    client = await connect_client(settings)
    pool = await open_pool(settings)
    try:
        async with build_worker(client, pool, settings):
            log.info(
                "worker started",
                task_queue=settings.temporal_task_queue,
                temporal=settings.temporal_address,
            )
            await stop.wait()
    finally:
        await pool.close()
        log.info("worker stopped")


async def _main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, stop)


def main() -> None:
    """``python worker.py``: bad or insecure settings are one line on stderr and exit 2."""
    from activities.channels import make_channel
    from infra.secure_config import exit_if_insecure, fail, load_settings

    settings = load_settings(PROGRAM)
    exit_if_insecure(PROGRAM, settings)
    try:
        make_channel(settings)  # a channel the settings cannot build stops the start, not a task
    except ValueError as exc:
        fail(PROGRAM, str(exc))
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
