"""`priorauth dev`: the whole stack on this machine with one command.

Starts the Temporal dev server (SQLite file under the data dir, UI on :8233,
gRPC on :7233, our search attributes), PostgreSQL (DATABASE_URL, else the
embedded server under the data dir), applies migrations, runs the worker and
the HTTP API in this process, and stops everything on Ctrl-C or SIGTERM.
Started again it reuses the data dir, so open cases survive a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import structlog

log = structlog.get_logger("dev")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dev", help="run the whole stack locally (Temporal, Postgres, worker, API)")
    p.add_argument("--temporal-port", type=int, default=7233)
    p.add_argument("--ui-port", type=int, default=8233)
    p.add_argument("--api-port", type=int, default=None, help="default: API_PORT or 8000")
    p.add_argument("--demo", action="store_true", help="also load a realistic set of demo cases")
    p.set_defaults(func=run_dev)


def run_dev(args: argparse.Namespace) -> int:
    from infra.logging import configure_logging
    from infra.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(_serve(args))
    except RuntimeError as exc:
        print(f"priorauth dev: {exc}")
        return 1
    return 0


async def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    import worker
    from api.app import create_app
    from infra.devserver import DevServer
    from infra.settings import get_settings

    settings = get_settings()
    api_port = args.api_port or settings.api_port
    settings = settings.model_copy(
        update={"temporal_address": f"127.0.0.1:{args.temporal_port}", "api_port": api_port}
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    dev_token = None if settings.api_tokens else _dev_token(settings)
    if dev_token:
        settings = settings.model_copy(update={"api_tokens": f"{dev_token}:admin"})
    # One host name for the UI and the codec endpoint, or the browser drops the login cookie.
    codec_endpoint = f"http://localhost:{api_port}/codec" if settings.codec_keys else None
    server = DevServer(
        port=args.temporal_port,
        ui_port=args.ui_port,
        db_file=settings.data_dir / "temporal.db",
        codec_endpoint=codec_endpoint,
        log_file=settings.data_dir / "temporal.log",
    )
    await server.start()
    try:
        client = await worker.connect_client(settings)
        pool = await worker.open_pool(settings)
        app = create_app(settings, client=client, pool=pool)
        api = uvicorn.Server(
            uvicorn.Config(app, host=settings.api_host, port=api_port, log_level="warning")
        )
        api_task = asyncio.create_task(api.serve())
        try:
            async with worker.build_worker(client, pool, settings):
                if args.demo:
                    from commands.demo import load_demo

                    await load_demo(client, pool, settings)
                while not api.started:
                    if api_task.done():
                        raise RuntimeError(f"the API could not start on port {api_port}")
                    await asyncio.sleep(0.05)
                _print_urls(settings, args, api_port, dev_token)
                await stop.wait()
        finally:
            api.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await api_task
            await pool.close()
    finally:
        server.stop()
        print("priorauth dev: stopped")


def _dev_token(settings) -> str:
    """An admin token for this data dir (kept in it), when API_TOKENS configures none."""
    import secrets

    path = settings.data_dir / "dev-token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _print_urls(settings, args: argparse.Namespace, api_port: int, dev_token: str | None) -> None:
    print(
        "\n".join(
            [
                "priorauth dev is up:",
                f"  Temporal UI     http://localhost:{args.ui_port}",
                f"  Temporal gRPC   localhost:{args.temporal_port}",
                f"  API docs        http://localhost:{api_port}/docs",
                f"  data            {settings.data_dir}",
                *([f"  API token       export PRIORAUTH_TOKEN={dev_token}"] if dev_token else []),
                "Ctrl-C stops everything.",
            ]
        ),
        flush=True,
    )
