"""How ``voigpt serve`` stops: SIGTERM closes the listening socket at once (new connections
are refused), lets the request in flight finish (a 200), then exits 0; with
``--drain-timeout`` shorter than that request, the process still exits 0 within a bound and
does not wait for the site. The site is the emulator in this process, slowed by a SLOW
fault; ``--workers`` is covered in test_serve_process.py."""

from __future__ import annotations

import signal
import socket
import threading
import time

import httpx

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import ServeProcess
from voigpt.emulator import Emulator, Fault


class InFlight:
    """A completion sent from a thread, so that the test can signal the server meanwhile."""

    def __init__(self, url: str) -> None:
        self.response: httpx.Response | None = None
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._send, args=(url,), daemon=True)
        self._thread.start()

    def _send(self, url: str) -> None:
        try:
            self.response = httpx.post(url + "/v1/chat/completions", json={"messages": HELLO},
                                       timeout=30)
        except httpx.HTTPError as exc:
            self.error = exc

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the request in flight never ended"


def wait_until_upstream(emulator: Emulator) -> None:
    """Until the completion has reached the site (where the SLOW fault holds it)."""
    deadline = time.monotonic() + 10
    while not any(r.method == "POST" for r in emulator.requests):
        assert time.monotonic() < deadline, "the completion never reached the site"
        time.sleep(0.01)


def refused(url: str, *, within: float) -> bool:
    """Whether a new connection to ``url`` is refused at some point within ``within`` s."""
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.02)
    return False


def test_sigterm_drains_the_request_in_flight_refuses_new_ones_and_exits_0(
    emulator: Emulator,
) -> None:
    process = ServeProcess("--base-url", emulator.url, "--drain-timeout", "20")
    emulator.inject(Fault.SLOW, delay=2.0)
    request = InFlight(process.url)
    wait_until_upstream(emulator)
    process.process.send_signal(signal.SIGTERM)
    # While the request is still in flight (the site holds it 2 s), new ones are refused.
    assert refused(process.url, within=1.5)
    assert process.process.poll() is None, "the process did not wait for the request"
    assert request.response is None
    code, _, stderr = process.stop(timeout=15)
    request.join(10)
    assert code == 0, stderr
    assert request.error is None, request.error
    assert request.response is not None
    assert request.response.status_code == 200, request.response.text
    assert request.response.json()["choices"][0]["message"]["content"] == EMULATOR_REPLY


def test_sigterm_with_a_short_drain_timeout_exits_0_without_waiting_for_the_site(
    emulator: Emulator,
) -> None:
    process = ServeProcess("--base-url", emulator.url, "--drain-timeout", "0.5")
    emulator.inject(Fault.SLOW, delay=20.0)
    request = InFlight(process.url)
    wait_until_upstream(emulator)
    signalled = time.monotonic()
    code, _, stderr = process.stop(timeout=15)
    took = time.monotonic() - signalled
    request.join(10)
    assert code == 0, stderr
    assert took < 8, f"exited {took:.1f}s after SIGTERM; the drain timeout is 0.5s"
    # The request was cut short: not the site's answer.
    assert request.response is None or request.response.status_code != 200


def test_sigint_stops_an_idle_server_with_0() -> None:
    process = ServeProcess("--backend", "fake")
    assert httpx.get(process.url + "/health", timeout=10).status_code == 200
    code, _, stderr = process.stop(signal.SIGINT, timeout=15)
    assert code == 0, stderr
    assert "Traceback" not in stderr
