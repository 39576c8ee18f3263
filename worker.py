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
from typing import Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain import policy_registry
from domain.policy_registry import PolicyRegistry
from infra.logging import configure_logging
from infra.settings import Settings

log = structlog.get_logger("worker")

WORKFLOW_CODE = ("workflows", "domain.case")  # the packages our workflow code lives in
PROGRAM = "priorauth worker"


def build_activities(
    pool: asyncpg.Pool, settings: Settings, policies: PolicyRegistry | None = None
) -> list[Callable[..., Any]]:
    """Every activity, as bound methods of classes built with their dependencies.

    ``policies``: the policy registry every case is decided under, each by its own
    ``policy_ref`` (default: every file of ``domain/policies/``, the same registry
    requests are checked against).
    """
    return _build(pool, settings, policies)[0]


def _build(
    pool: asyncpg.Pool, settings: Settings, policies: PolicyRegistry | None = None
) -> tuple[list[Callable[..., Any]], list[Any]]:
    """The activities, and the outbox dispatchers the worker runs beside them."""
    from activities.channels import RestHookChannel, make_channel
    from activities.claims_ledger import ClaimsLedger
    from activities.decisions import CaseDecisions
    from activities.evaluation import EvaluationActivities
    from activities.fhir_subscriptions import SubscriptionFanOut
    from activities.notifications import Notifier
    from activities.outbox import CaseOutbox, OutboxDispatcher
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
    # The outbox's deliveries, from the worker: the cases' notices, and the FHIR
    # subscriptions' rows a follower left owed (its worker died mid-delivery).
    dispatcher = OutboxDispatcher(pool, notifier)
    dispatchers = [dispatcher, OutboxDispatcher(pool, rest_hook)]
    outbox = CaseOutbox(pool, store, notifier, dispatcher)
    # A decision writes its notices and projection in its own row's transaction.
    decisions = CaseDecisions(evaluation, store, pool, outbox)
    activities = [
        *decisions.activities(),
        *evaluation.activities(),
        *store.activities(),
        *ledger.activities(),
        *outbox.activities(),
    ]
    return activities, dispatchers


class CaseWorker(Worker):
    """The Temporal worker, and beside it the outbox dispatchers (``activities/outbox.py``)
    for as long as it runs."""

    def __init__(self, *args: Any, dispatchers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dispatchers = dispatchers
        self._dispatching: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> CaseWorker:
        await super().__aenter__()
        self._dispatching = [asyncio.create_task(d.run()) for d in self.dispatchers]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for task in self._dispatching:
            task.cancel()
        await asyncio.gather(*self._dispatching, return_exceptions=True)
        await super().__aexit__(*exc)


def workflow_runner(*modules: str) -> SandboxedWorkflowRunner:
    """The sandbox, with our workflow code passed through instead of re-imported per run.

    The default sandbox imports the workflow's module afresh for every workflow run
    it starts, and ``@workflow.defn`` walks the whole class again each time: a
    quarter of this worker's CPU per decision, and a module copy per cached case.
    ``workflows/`` holds no module state (and imports the pure case from ``domain``),
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
) -> CaseWorker:
    from workflows import WORKFLOWS

    activities, dispatchers = _build(pool, settings, policies)
    return CaseWorker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        dispatchers=dispatchers,
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
