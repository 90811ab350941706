"""Unit tier: no sockets. Any attempt to open one fails the test loudly, which also proves
that validation errors are raised before any network I/O."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


class NetworkAttempted(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkAttempted(f"a unit test tried to use the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield
