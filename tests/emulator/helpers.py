"""Constants and small clients shared by the emulator tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests

from voigpt.emulator import Emulator, reply_for

GENERATE = "/generate_response/"
HELLO = [{"role": "user", "content": "hello"}]
REPLY = reply_for(HELLO)


def csrf_headers(token: str) -> dict[str, str]:
    """The cookie and the header, both carrying ``token``."""
    return {"Cookie": f"csrftoken={token}", "X-CSRFToken": token}


def fetch_token(emulator: Emulator) -> str:
    return requests.get(emulator.url, timeout=10).cookies["csrftoken"]


def raw_exchange(emulator: Emulator, payload: bytes) -> bytes:
    """Send raw bytes and return everything the emulator answers before it closes."""
    with socket.create_connection((emulator.host, emulator.port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def connection_threads(emulator: Emulator) -> list[str]:
    """Names of the live threads serving connections of ``emulator``."""
    prefix = f"voigpt-emulator-{emulator.port}-conn-"
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether ``condition()`` becomes true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class SiteClient:
    """A ``requests.Session`` that never sends cookies by itself: every test says what it sends."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def token(self) -> str:
        response = self.session.get(self.emulator.url + "/", timeout=10)
        assert response.status_code == 200, response.text
        return response.cookies["csrftoken"]

    def generate(
        self,
        messages: Any = HELLO,
        *,
        token: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> requests.Response:
        """POST /generate_response/ with cookie and header both set to ``token`` (if given)."""
        headers = {"Content-Type": "application/json"}
        headers.update(csrf_headers(token) if token is not None else {})
        headers.update(extra_headers or {})
        body = {"data": data} if data is not None else {"json": {"messages": messages}}
        return self.session.post(
            self.emulator.url + GENERATE, headers=headers, timeout=30, **body
        )

    def complete(self, messages: Any = HELLO) -> requests.Response:
        """A fresh token, then a POST with it."""
        return self.generate(messages, token=self.token())
