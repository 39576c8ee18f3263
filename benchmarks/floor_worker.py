"""``python -m benchmarks.floor_worker``: a worker for the engine-floor workflow only.

Built like the production worker (``worker.build_worker``: same client, data
converter, worker options and sandbox, its workflow module passed through), but
registering ``FloorWorkflow`` and its no-op activity instead of ours, so the
bench compares like with like. Settings come
from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE);
it needs no database. SIGINT/SIGTERM stop it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal

from temporalio.worker import Worker

from benchmarks.floor import FloorWorkflow, noop


async def _main() -> None:
    import worker
    from infra.logging import configure_logging
    from infra.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await worker.connect_client(settings)
    async with Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[FloorWorkflow],
        activities=[noop],
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=4),
        workflow_runner=worker.workflow_runner("benchmarks.floor"),
    ):
        print("floor worker started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_main())
