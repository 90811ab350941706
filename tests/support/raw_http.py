"""HTTP/1.1 by hand on a raw socket, for the tests of what a server does with requests no
HTTP client would send: heads that never end or never stop, bodies that stall, bytes
that are not HTTP."""

from __future__ import annotations

import json
import socket
from typing import Any

from tests.support.server import ERROR_FIELDS


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.headers}, {self.body[:300]!r})"


def send(sock: socket.socket, data: bytes) -> bool:
    """Whether all of ``data`` went out (False: the server had closed its end)."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def read_answer(sock: socket.socket) -> Answer | None:
    """The first answer on ``sock``, its body read by its Content-Length; None if the
    connection closed without one."""
    answers = read_answers(sock, 1)
    return answers[0] if answers else None


def read_answers(sock: socket.socket, count: int) -> list[Answer]:
    """Up to ``count`` answers in a row on ``sock`` (fewer if it closes first)."""
    answers: list[Answer] = []
    received = b""
    while len(answers) < count:
        while b"\r\n\r\n" not in received:
            chunk = _recv(sock)
            if not chunk:
                assert not received, f"the connection closed mid-answer: {received!r}"
                return answers
            received += chunk
        head, _, received = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(received) < length:
            chunk = _recv(sock)
            assert chunk, f"the connection closed mid-body: {received!r}"
            received += chunk
        body, received = received[:length], received[length:]
        answers.append(Answer(int(status_line.split()[1]), headers, body))
    return answers


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


def exchange(address: tuple[str, int], request: bytes, *, timeout: float = 10) -> Answer:
    """``request`` on a new connection, and the answer to it."""
    with socket.create_connection(address, timeout=timeout) as sock:
        send(sock, request)
        answer = read_answer(sock)
    assert answer is not None, "the connection closed without an answer"
    return answer


def openai_error(answer: Answer | None, status: int) -> dict[str, Any]:
    """The ``error`` of ``answer``, checked to be OpenAI's shape with ``status``."""
    assert answer is not None, "no answer"
    assert answer.status == status, answer
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    document = json.loads(answer.body)
    assert isinstance(document, dict) and list(document) == ["error"], answer
    error = document["error"]
    assert sorted(error) == sorted(ERROR_FIELDS), answer
    assert isinstance(error["message"], str) and error["message"], answer
    assert isinstance(error["type"], str) and error["type"], answer
    return dict(error)


def head(method: str = "GET", target: str = "/health", *, pad: int = 0,
         headers: dict[str, str] | None = None) -> bytes:
    """A request head (``Connection: close``), an ``X-Pad`` header of ``pad`` bytes if
    asked for."""
    fields = {"Host": "test", "Connection": "close", **(headers or {})}
    if pad:
        fields["X-Pad"] = "p" * pad
    lines = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"{method} {target} HTTP/1.1\r\n{lines}\r\n".encode()
