"""Keep-alive: one connection for many calls, no Nagle/delayed-ACK stall, concurrent clients."""

from __future__ import annotations

import logging
import socket
import threading

import requests

from voigpt.emulator import Emulator, reply_for
from voigpt.emulator.httpd import EmulatorHTTPServer
from voigpt.emulator.website import Site

GENERATE = "/generate_response/"


def _headers(token: str) -> dict[str, str]:
    return {"Cookie": f"csrftoken={token}", "X-CSRFToken": token}


def test_fifty_sequential_posts_reuse_one_connection(voigpt_emulator: Emulator) -> None:
    url = voigpt_emulator.url
    with requests.Session() as session:
        token = session.get(url + "/", timeout=10).cookies["csrftoken"]
        session.cookies.clear()
        replies = [
            session.post(
                url + GENERATE,
                headers=_headers(token),
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


def test_accepted_sockets_have_tcp_nodelay() -> None:
    """Without TCP_NODELAY a keep-alive client stalls ~40 ms per call (Nagle + delayed ACK).
    The speed itself is measured in benchmarks/emulator_keepalive.py, not asserted here."""
    site = Site(control=False, logger=logging.getLogger("test"), stopping=threading.Event())
    server = EmulatorHTTPServer(("127.0.0.1", 0), site)
    try:
        with socket.create_connection(server.server_address[:2], timeout=5):
            accepted, _ = server.get_request()
            with accepted:
                nodelay = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        server.server_close()

    assert nodelay != 0


def test_concurrent_clients_are_served_in_parallel(voigpt_emulator: Emulator) -> None:
    url = voigpt_emulator.url
    token = requests.get(url, timeout=10).cookies["csrftoken"]
    results: dict[int, list[str]] = {}

    def worker(n: int) -> None:
        with requests.Session() as session:
            results[n] = [
                session.post(
                    url + GENERATE,
                    headers=_headers(token),
                    json={"messages": [{"role": "user", "content": f"{n}-{i}"}]},
                    timeout=10,
                ).json()["response"]
                for i in range(10)
            ]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert results == {
        n: [reply_for([{"role": "user", "content": f"{n}-{i}"}]) for i in range(10)]
        for n in range(8)
    }
    assert voigpt_emulator.completions == 80
