"""`priorauth dev`: the whole stack on this machine with one command.

Starts the Temporal dev server (SQLite file under the data dir, UI on :8233,
gRPC on :7233, our search attributes), PostgreSQL (DATABASE_URL, else the
embedded server under the data dir), applies migrations, runs the worker and
the HTTP API in this process, and stops everything on Ctrl-C or SIGTERM.
Started again it reuses the data dir, so open cases survive a restart.

Quiet by default: what the services and libraries print (the embedded
PostgreSQL's initdb, the Temporal server, the SDK, uvicorn) goes to files under
``<data dir>/logs``; the console gets a short banner, then the application's
own events.

Safe by default: payloads are encrypted in Temporal (infra/codec.py) with a key
made for the data dir (``<data dir>/codec-keys``, owner-only, like the admin
token ``<data dir>/dev-token``), unless CODEC_KEYS names keys. The UI decodes
through the API's codec endpoint. Running in clear is a choice made out loud:
``--no-encryption`` or ``CODEC_KEYS=none``, and the banner says so.

Without API_TOKENS / API_TOKENS_FILE / OIDC it makes credentials of its own,
kept in the data dir (owner-only): an admin token (``dev-token``, printed) and
one token per demo person or system (``dev-tokens.json``, commands/demo.py's
``DEMO_PEOPLE``: intake, two reviewers, the claims and clinical systems, an
auditor), so actions are taken as someone, as in production (README, Security).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from infra.settings import Settings

log = structlog.get_logger("dev")

CODEC_KEYS_FILE = "codec-keys"
TOKEN_FILE = "dev-token"
TOKENS_FILE = "dev-tokens.json"
DEV_ADMIN = "dev-admin"
LOG_DIR = "logs"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dev", help="run the whole stack locally (Temporal, Postgres, worker, API)")
    p.add_argument("--temporal-port", type=int, default=7233)
    p.add_argument("--ui-port", type=int, default=8233)
    p.add_argument("--api-port", type=int, default=None, help="default: API_PORT or 8000")
    p.add_argument("--demo", action="store_true", help="also load a realistic set of demo cases")
    p.add_argument(
        "--no-encryption",
        action="store_true",
        help="keep payloads, PHI included, in clear in Temporal (as CODEC_KEYS=none); "
        "by default they are encrypted with a key made for the data dir",
    )
    p.set_defaults(func=run_dev)


def run_dev(args: argparse.Namespace) -> int:
    from infra.codec import CodecError
    from infra.logging import configure_logging, send_service_logs_to
    from infra.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    log_dir = settings.data_dir / LOG_DIR
    send_service_logs_to(log_dir)
    _forward_sdk_core_logs()
    print(f"priorauth dev: starting (service logs in {log_dir})", flush=True)
    try:
        asyncio.run(_serve(args))
    except (RuntimeError, CodecError) as exc:
        print(f"priorauth dev: {exc} (service logs in {log_dir})")
        return 1
    return 0


def _forward_sdk_core_logs() -> None:
    """The Temporal SDK's Core writes its warnings to stderr itself; send them through
    Python logging instead (so to services.log). Set before any client connects."""
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    forwarding = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    core = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=forwarding
    )
    Runtime.set_default(
        Runtime(telemetry=TelemetryConfig(logging=core)), error_if_already_set=False
    )


async def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    import worker
    from api.app import create_app
    from infra.devserver import DevServer
    from infra.settings import get_settings

    settings = get_settings()
    api_port = args.api_port or settings.api_port
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    encryption = dev_encryption(settings, no_encryption=args.no_encryption)
    # The UI calls the codec endpoint from the browser: its origin must be allowed.
    ui_origins = [settings.codec_ui_origins] if settings.codec_ui_origins else []
    ui_origins += [f"http://localhost:{args.ui_port}", f"http://127.0.0.1:{args.ui_port}"]
    # A development stack, whatever PRIORAUTH_ENV says: its shortcuts are allowed here.
    settings = settings.model_copy(
        update={
            "temporal_address": f"127.0.0.1:{args.temporal_port}",
            "api_port": api_port,
            "codec_keys": encryption.codec_keys,
            "codec_ui_origins": ",".join(ui_origins),
            "temporal_ui_url": f"http://localhost:{args.ui_port}",
            "priorauth_env": "dev",
        }
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    configured = settings.api_tokens or settings.api_tokens_file or settings.oidc_jwks_url
    dev_token = None if configured else _dev_token(settings)
    if dev_token:
        settings = settings.model_copy(update={"api_tokens_file": _dev_tokens(settings, dev_token)})
    # One host name for the UI and the codec endpoint, or the browser drops the login cookie.
    codec_endpoint = f"http://localhost:{api_port}/codec" if encryption.on else None
    server = DevServer(
        port=args.temporal_port,
        ui_port=args.ui_port,
        db_file=settings.data_dir / "temporal.db",
        codec_endpoint=codec_endpoint,
        log_file=settings.data_dir / LOG_DIR / "temporal.log",
    )
    await server.start()
    try:
        client = await worker.connect_client(settings)
        pool = await worker.open_pool(settings)
        app = create_app(settings, client=client, pool=pool)
        api = uvicorn.Server(
            uvicorn.Config(
                app, host=settings.api_host, port=api_port, log_level="warning", log_config=None
            )
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
                print(banner(settings, args, api_port, dev_token, encryption), flush=True)
                await stop.wait()
        finally:
            api.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await api_task
            await pool.close()
    finally:
        server.stop()
        print("priorauth dev: stopped")


@dataclass(frozen=True)
class DevEncryption:
    """What the stack's worker, API and demo loader use, and what the banner says of it."""

    codec_keys: str  # the CODEC_KEYS they get: keys, or "none"
    on: bool
    why: str


def dev_encryption(settings: Settings, *, no_encryption: bool = False) -> DevEncryption:
    """Encryption for the dev stack: on unless chosen off (``--no-encryption``,
    ``CODEC_KEYS=none``); the keys of CODEC_KEYS, else the data dir's own key, made on
    first use. Raises CodecError for unusable keys."""
    from infra.codec import (
        NO_ENCRYPTION,
        CodecError,
        encryption_off,
        format_key,
        generate_key,
        generate_key_id,
        parse_keys,
    )

    if no_encryption or encryption_off(settings.codec_keys):
        chosen = "--no-encryption" if no_encryption else "CODEC_KEYS=none"
        return DevEncryption(NO_ENCRYPTION, False, chosen)
    if settings.codec_keys.strip():
        parse_keys(settings.codec_keys)
        return DevEncryption(settings.codec_keys, True, "keys from CODEC_KEYS")
    path = settings.data_dir / CODEC_KEYS_FILE
    keys = _secret(path, lambda: format_key(generate_key_id(), generate_key()))
    try:
        usable = parse_keys(keys)[1] is not None
    except CodecError as exc:
        raise CodecError(f"{path}: {exc}") from None
    if not usable:  # never taken for "no encryption": that is only ever chosen
        raise CodecError(f"{path} holds no key (CODEC_KEYS format: keyid:base64key)")
    return DevEncryption(keys, True, f"key in {path}")


def _secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in ``path``, made on first use and readable by its owner only from
    the start: written to a private (0600) temporary file, then linked into place, so
    nobody else can read it and nobody finds it half-written. A symlink in its place is
    refused: the secret is this file, not whatever it points at."""
    if path.is_symlink():
        raise RuntimeError(f"{path} is a symlink; a secret file must be a plain file")
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(make() + "\n")
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # made meanwhile by another process
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _dev_token(settings: Settings) -> str:
    """An admin token for this data dir (kept in it), when no credentials are configured."""
    return _secret(settings.data_dir / TOKEN_FILE, lambda: secrets.token_urlsafe(32))


def _dev_tokens(settings: Settings, admin_token: str) -> Path:
    """The API_TOKENS_FILE of this data dir: the admin, and one token per demo person
    or system (made once, kept); owner-only from the start, like the admin token."""
    import json

    from commands.demo import DEMO_PEOPLE

    path = settings.data_dir / TOKENS_FILE
    if path.is_symlink():  # as for every secret file (_secret): this file, not its target
        raise RuntimeError(f"{path} is a symlink; a secret file must be a plain file")
    entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    entries = [e for e in entries if e.get("subject") != DEV_ADMIN]
    known = {e.get("subject") for e in entries}
    entries.insert(0, {"token": admin_token, "subject": DEV_ADMIN, "roles": ["admin"]})
    for subject, roles in DEMO_PEOPLE.items():
        if subject not in known:
            entries.append({"token": secrets.token_urlsafe(32), "subject": subject, "roles": roles})
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(entries, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # replaces the name, never writes through it
    finally:
        tmp.unlink(missing_ok=True)
    return path


def banner(
    settings: Settings,
    args: argparse.Namespace,
    api_port: int,
    dev_token: str | None,
    encryption: DevEncryption,
) -> str:
    """What `priorauth dev` prints once everything is up: where to go, and how."""
    api = f"http://localhost:{api_port}"
    log_dir = settings.data_dir / LOG_DIR
    pad = " " * 18
    lines = [
        "priorauth dev is up:",
        f"  Temporal UI     http://localhost:{args.ui_port}",
        f"  Temporal gRPC   localhost:{args.temporal_port}",
        f"  API docs        {api}/docs",
        f"  Workbench       {api}/workbench (log in with a reviewer's token)",
    ]
    if dev_token:
        lines.append(f"  API token       export PRIORAUTH_TOKEN={dev_token}")
        lines.append(f"  per person      {settings.data_dir / TOKENS_FILE} (README, Security)")
    if encryption.on:
        lines += [
            f"  encryption      on: Temporal holds ciphertext ({encryption.why})",
            f"  PHI in the UI   {api}/codec/login: paste the token (opens a codec session);",
            f'{pad}then turn on the UI codec setting "Include cross-origin credentials"',
        ]
    else:
        lines.append(
            f"  encryption      OFF ({encryption.why}): PHI is in clear in Temporal and its UI"
        )
        if (settings.data_dir / CODEC_KEYS_FILE).exists():
            lines.append(f"{pad}(cases encrypted earlier in this data dir won't decode)")
    lines += [
        f"  data, logs      {settings.data_dir}, {log_dir}",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)
