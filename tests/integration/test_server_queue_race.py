"""A queued client that goes away just as a slot frees: its completion never goes upstream,
and it is counted as gone (499), not as a 200 sent to nobody.

The slot is freed by the client holding it leaving. Both clients close their sockets while
the server's event loop is held still (``Served.in_turns``), so the server finds the two
disconnects a chosen number of turns of its loop apart: no timing lottery. With
``asyncio.wait_for`` waiting for the slot, 1 to 3 turns apart lost the queued client's
cancellation (its completion ran upstream and was counted as a 200); up to 8 turns apart,
the news still comes before the queued request has written anything upstream, so 0 to 5
leaves a margin."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault

COMPLETIONS = "/v1/chat/completions"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.01)


def ask_raw(server: Served, prompt: str) -> socket.socket:
    """A completion asked for on a socket of its own, left open (the caller closes it)."""
    body = json.dumps({"messages": [{"role": "user", "content": prompt}]}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(
        f"POST {COMPLETIONS} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    )
    return sock


def prompts_upstream(site: Emulator) -> list[str]:
    return [str(r.json()["messages"][-1]["content"])  # type: ignore[index]
            for r in site.requests if r.method == "POST"]


def gone(server: Served) -> float:
    return metric(server.url, "voigpt_server_rejections_total", cause="client_disconnected")


@pytest.fixture
def server(emulator: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=emulator.url, retries=0, timeout=10, environ={})
    with served(client, max_concurrency=1, queue_timeout=10) as running:
        primed = httpx.post(running.v1 + "/chat/completions", json={"messages": HELLO})
        assert primed.json()["choices"][0]["message"]["content"] == EMULATOR_REPLY
        yield running  # with a token cached: no token request in the race


@pytest.mark.parametrize("apart", range(0, 6))
def test_a_queued_client_leaving_as_the_slot_frees_never_goes_upstream_and_is_a_499(
    server: Served, emulator: Emulator, apart: int
) -> None:
    emulator.inject(Fault.SLOW, delay=8)  # the holder's completion hangs upstream
    holder = ask_raw(server, "holder")
    wait_until(lambda: prompts_upstream(emulator)[-1:] == ["holder"], "the holder upstream")
    queued = ask_raw(server, "queued")
    time.sleep(0.3)  # read, queued for the slot, and watched for its client (after 20 ms)
    server.in_turns(holder.close, queued.close, apart=apart)
    wait_until(lambda: gone(server) == 2, "both requests counted as gone")
    assert prompts_upstream(emulator).count("queued") == 0
    counted = metric(server.url, "voigpt_server_requests_total", route=COMPLETIONS)
    answered = metric(server.url, "voigpt_server_requests_total", route=COMPLETIONS,
                      status="200")
    assert (counted, answered) == (3, 1)  # the primer's 200 and two 499s
    assert metric(server.url, "voigpt_completions_in_flight") == 0
    again = httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO}, timeout=10)
    assert again.status_code == 200  # the slot is free (both were given back)
