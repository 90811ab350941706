"""Keep-alive: one connection for many calls, no Nagle/delayed-ACK stall, concurrent clients."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import requests

from tests.emulator.helpers import GENERATE, csrf_headers, fetch_token
from voigpt.emulator import Emulator, Fault, reply_for


def test_fifty_sequential_posts_reuse_one_connection(voigpt_emulator: Emulator) -> None:
    url = voigpt_emulator.url
    with requests.Session() as session:
        token = session.get(url + "/", timeout=10).cookies["csrftoken"]
        session.cookies.clear()
        replies = [
            session.post(
                url + GENERATE,
                headers=csrf_headers(token),
                json={"messages": [{"role": "user", "content": f"n{i}"}]},
                timeout=10,
            ).json()["response"]
            for i in range(50)
        ]

    assert replies == [f"[voigpt emulator] You said: n{i}" for i in range(50)]
    seen = voigpt_emulator.requests
    assert len(seen) == 51
    assert len({request.client for request in seen}) == 1
    assert voigpt_emulator.completions == 50


def test_accepted_sockets_have_tcp_nodelay(voigpt_emulator: Emulator) -> None:
    """Without TCP_NODELAY a keep-alive client stalls ~40 ms per call (Nagle + delayed ACK).
    The speed itself is measured in benchmarks/emulator_keepalive.py, not asserted here."""
    connection = http.client.HTTPConnection(voigpt_emulator.host, voigpt_emulator.port, timeout=5)
    connection.request("GET", "/")
    connection.getresponse().read()  # the connection stays open: keep-alive
    try:
        server_side = list(voigpt_emulator._server._connections)  # type: ignore[union-attr]
        flags = [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in server_side]
    finally:
        connection.close()

    assert len(flags) == 1
    assert flags[0] != 0


def test_concurrent_clients_are_served_in_parallel(voigpt_emulator: Emulator) -> None:
    """Each client's first POST waits DELAY in a SLOW fault: served one connection at a time,
    the clients would need CLIENTS * DELAY in all; served in parallel, about DELAY."""
    clients, delay = 8, 0.5
    url = voigpt_emulator.url
    token = fetch_token(voigpt_emulator)
    voigpt_emulator.inject(Fault.SLOW, times=clients, delay=delay)
    results: dict[int, list[str]] = {}
    start = threading.Barrier(clients + 1)

    def worker(n: int) -> None:
        with requests.Session() as session:
            start.wait(10)
            results[n] = [
                session.post(
                    url + GENERATE,
                    headers=csrf_headers(token),
                    json={"messages": [{"role": "user", "content": f"{n}-{i}"}]},
                    timeout=30,
                ).json()["response"]
                for i in range(5)
            ]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait(10)
    started = time.monotonic()
    for thread in threads:
        thread.join(60)
    elapsed = time.monotonic() - started

    assert results == {
        n: [reply_for([{"role": "user", "content": f"{n}-{i}"}]) for i in range(5)]
        for n in range(clients)
    }
    assert voigpt_emulator.completions == clients * 5
    assert elapsed < clients * delay / 2, f"{clients} SLOW requests took {elapsed:.2f}s"
