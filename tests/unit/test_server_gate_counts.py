"""The gate counts each request once, by the status its client gets: a request the server
cuts before it has an answer (SIGTERM, then the drain timeout) is the 503 that
``outermost.py`` answers, not uvicorn's old plain 500."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from voigpt.entrypoints.server.errors import ErrorAnswers
from voigpt.entrypoints.server.gate import Gate, Message, Receive, Scope, Send
from voigpt.entrypoints.server.metrics import ServerMetrics


def counted(metrics: ServerMetrics, status: str) -> float:
    value = metrics.registry.get_sample_value(
        "voigpt_server_requests_total",
        {"route": "unmatched", "method": "GET", "status": status},
    )
    return value or 0.0


def gate_over(app: Any, metrics: ServerMetrics) -> Gate:
    return Gate(app, keys=(), max_body_bytes=1024, metrics=metrics,
                answer_error=ErrorAnswers(metrics), find_route=lambda scope: None)


SCOPE: Scope = {"type": "http", "method": "GET", "path": "/slow", "raw_path": b"/slow",
                "root_path": "", "query_string": b"", "headers": []}


async def nothing() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def run(gate: Gate, sent: list[Message]) -> None:
    async def send(message: Message) -> None:
        sent.append(message)

    await gate(dict(SCOPE), nothing, send)


def test_a_request_cut_before_its_answer_is_counted_as_the_503_it_gets() -> None:
    async def hangs(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(60)

    metrics = ServerMetrics()

    async def main() -> None:
        task = asyncio.ensure_future(run(gate_over(hangs, metrics), []))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert counted(metrics, "503") == 1
    assert counted(metrics, "500") == 0


def test_a_cut_after_the_answer_began_keeps_the_status_sent() -> None:
    async def starts_then_hangs(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(60)

    metrics = ServerMetrics()

    async def main() -> None:
        task = asyncio.ensure_future(run(gate_over(starts_then_hangs, metrics), []))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert counted(metrics, "200") == 1
    assert counted(metrics, "503") == 0


def test_an_app_that_raises_without_an_answer_is_counted_as_a_500() -> None:
    async def fails(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a bug")

    metrics = ServerMetrics()
    with pytest.raises(RuntimeError):
        asyncio.run(run(gate_over(fails, metrics), []))
    assert counted(metrics, "500") == 1
