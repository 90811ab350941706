"""Ports on 127.0.0.1 for tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


def unused_port() -> int:
    """A port that nothing listens on now (the OS handed it out, then it was released): a
    dead upstream for a test, or a port to start a server on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something listens on for the test's length."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield int(holder.getsockname()[1])
