"""``--max-concurrency``: at most N completions in flight upstream; a request beyond it waits
up to ``--queue-timeout`` for a slot, then gets 429 with Retry-After. A client that goes away
mid-completion cancels it: its upstream request is abandoned, its slot is given back and the
in-flight gauge returns to 0. Slow completions come from the emulator's SLOW fault."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import psutil
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, error_of, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.02)


def in_flight(server: Served) -> float:
    return metric(server.url, "voigpt_completions_in_flight")


def posts(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "POST"]


def complete(server: Served, timeout: float = 10) -> httpx.Response:
    return httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO},
                      timeout=timeout)


@pytest.fixture
def serve(voigpt_emulator: Emulator) -> Callable[..., Any]:
    """``serve(**server_settings)``: the app over a retry-less client of the emulator."""

    def start(**settings: Any) -> Any:
        client = AsyncClient(base_url=voigpt_emulator.url, retries=0, timeout=10, environ={})
        return served(client, **settings)

    return start


def test_beyond_the_limit_a_request_waits_the_queue_timeout_then_gets_429_with_retry_after(
    voigpt_emulator: Emulator, serve: Callable[..., Any]
) -> None:
    voigpt_emulator.inject(Fault.SLOW, delay=1.5)
    with serve(max_concurrency=1, queue_timeout=0.3) as server, ThreadPoolExecutor(1) as pool:
        first = pool.submit(complete, server)
        wait_until(lambda: in_flight(server) == 1, "one completion in flight")
        started = time.monotonic()
        response = complete(server)
        waited = time.monotonic() - started
        error = error_of(response, 429)
        assert (error["type"], error["code"]) == ("requests", "server_busy")
        assert response.headers["retry-after"] == "1"
        assert waited >= 0.25  # it queued before it was refused
        assert len(posts(voigpt_emulator)) == 1  # the refused one never went upstream
        assert first.result().status_code == 200
        assert complete(server).status_code == 200  # the slot came back
        assert metric(server.url, "voigpt_server_rejections_total", cause="server_busy") == 1


def test_a_queued_request_gets_the_slot_freed_within_the_queue_timeout(
    voigpt_emulator: Emulator, serve: Callable[..., Any]
) -> None:
    voigpt_emulator.inject(Fault.SLOW, delay=0.5)
    with serve(max_concurrency=1, queue_timeout=5) as server, ThreadPoolExecutor(1) as pool:
        first = pool.submit(complete, server)
        wait_until(lambda: in_flight(server) == 1, "one completion in flight")
        second = complete(server)
        assert second.status_code == 200
        assert first.result().status_code == 200
        assert len(posts(voigpt_emulator)) == 2


def test_the_limit_bounds_how_many_completions_go_upstream_at_once(
    voigpt_emulator: Emulator, serve: Callable[..., Any]
) -> None:
    voigpt_emulator.inject(Fault.SLOW, delay=1, times=None)
    with serve(max_concurrency=2, queue_timeout=0) as server, ThreadPoolExecutor(5) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda _: complete(server), range(5)))
        assert statuses == [200, 200, 429, 429, 429]
        assert len(posts(voigpt_emulator)) == 2
        assert in_flight(server) == 0


def test_the_sdk_retries_the_servers_own_429_and_gets_the_freed_slot(
    voigpt_emulator: Emulator, serve: Callable[..., Any]
) -> None:
    voigpt_emulator.inject(Fault.SLOW, delay=0.6)
    with serve(max_concurrency=1, queue_timeout=0.1) as server, ThreadPoolExecutor(1) as pool:
        first = pool.submit(complete, server)
        wait_until(lambda: in_flight(server) == 1, "one completion in flight")
        with openai.OpenAI(base_url=server.v1, api_key="k", max_retries=2) as sdk:
            completion = sdk.chat.completions.create(model="gpt-3.5-turbo", messages=HELLO)  # type: ignore[arg-type]
        assert completion.choices[0].message.content == EMULATOR_REPLY
        assert first.result().status_code == 200
        assert metric(server.url, "voigpt_server_rejections_total", cause="server_busy") >= 1


# --- a client that goes away ------------------------------------------------------------


def established(local: tuple[str, int], remote_port: int) -> bool:
    """Whether this process still holds the TCP connection from ``local`` to the port."""
    return any(
        c.laddr and c.raddr and tuple(c.laddr) == local and c.raddr.port == remote_port
        and c.status == psutil.CONN_ESTABLISHED
        for c in psutil.Process().net_connections(kind="tcp")
    )


def leave_by_closing_the_socket(server: Served, ready: Callable[[], None]) -> None:
    body = json.dumps({"messages": HELLO}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        ready()
    # closed here, mid-completion


def leave_by_timing_out(server: Served, ready: Callable[[], None]) -> None:
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            complete(server, timeout=1.0)
        except httpx.ReadTimeout as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    ready()
    thread.join()
    assert outcome, "the request was expected to time out on the client side"


@pytest.mark.parametrize("leave", [leave_by_closing_the_socket, leave_by_timing_out],
                         ids=["socket-closed", "httpx-timeout"])
def test_a_client_that_goes_away_cancels_its_completion_and_frees_its_slot(
    voigpt_emulator: Emulator, serve: Callable[..., Any],
    leave: Callable[[Served, Callable[[], None]], None],
) -> None:
    voigpt_emulator.inject(Fault.SLOW, delay=6)  # cut short when the emulator stops
    with serve(max_concurrency=1, queue_timeout=0.2) as server:
        upstream: list[tuple[str, int]] = []

        def ready() -> None:  # the completion holds the slot and its request is upstream
            wait_until(lambda: in_flight(server) == 1 and len(posts(voigpt_emulator)) == 1,
                       "the completion holds its slot, its request upstream")
            upstream.append(posts(voigpt_emulator)[0].client)
            assert established(upstream[0], voigpt_emulator.port)

        started = time.monotonic()
        leave(server, ready)
        wait_until(lambda: in_flight(server) == 0, "the in-flight gauge is back to 0", 4)
        # Well before the site would have answered (6 s): the completion was cancelled...
        assert time.monotonic() - started < 5
        # ...and its upstream connection closed, not left to wait for the reply.
        wait_until(lambda: not established(upstream[0], voigpt_emulator.port),
                   "the upstream connection is closed", 2)
        response = complete(server)  # queue_timeout 0.2 s: only a free slot serves it
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"] == EMULATOR_REPLY
        assert in_flight(server) == 0
        rejected = metric(server.url, "voigpt_server_rejections_total", cause="client_disconnected")
        assert rejected == 1


def test_a_queued_client_that_goes_away_leaves_the_queue_at_once(
    voigpt_emulator: Emulator, serve: Callable[..., Any]
) -> None:
    """It does not wait out the queue timeout for nobody: it is counted as gone (499), not
    as refused for lack of a slot, and never goes upstream."""
    voigpt_emulator.inject(Fault.SLOW, delay=1.5)
    with serve(max_concurrency=1, queue_timeout=8) as server, ThreadPoolExecutor(1) as pool:
        first = pool.submit(complete, server)
        wait_until(lambda: in_flight(server) == 1, "one completion in flight")
        started = time.monotonic()

        def queued() -> None:  # the second request waits for the slot the first holds
            time.sleep(0.3)

        leave_by_closing_the_socket(server, queued)
        gone = lambda: metric(  # noqa: E731
            server.url, "voigpt_server_rejections_total", cause="client_disconnected")
        wait_until(lambda: gone() == 1, "the queued request is counted as gone", 3)
        assert time.monotonic() - started < 3  # long before the 8 s queue timeout
        assert metric(server.url, "voigpt_server_rejections_total", cause="server_busy") == 0
        assert first.result().status_code == 200
        assert len(posts(voigpt_emulator)) == 1  # the one that left never went upstream
        assert in_flight(server) == 0
