"""Fixtures for the PostgreSQL integration tests: empty databases and a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest_asyncio

from infra.postgres import create_database, drop_database


@pytest_asyncio.fixture
async def empty_db_url(postgres_url: str) -> AsyncIterator[str]:
    """A database with no schema at all, dropped afterwards."""
    name = f"priorauth_empty_{uuid.uuid4().hex[:12]}"
    yield await create_database(postgres_url, name)
    await drop_database(postgres_url, name)


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes = b""


@dataclass
class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1: answers ``statuses`` in turn, then 200.

    With ``gate`` set, each answer waits until the gate opens.
    """

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    gate: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(
                Received(headers=headers, body=json.loads(body or b"{}"), raw=body)
            )
            self.arrived.set()
            status = self.statuses.pop(0) if self.statuses else 200
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.gate is not None:
                await self.gate.wait()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        finally:
            writer.close()


@pytest_asyncio.fixture
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/notices"
    yield receiver
    server.close()
    await server.wait_closed()
