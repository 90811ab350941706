"""HTTP/1.1 on the wire, strictly: read a request head, write a response.

A head is returned only when it arrived whole: a client that closes part-way raises
``ClientGone`` (it is then dropped, never served), and a malformed head raises ``BadRequest``
with the status to answer (400, 411, 413, 414, 431 or 505) before closing.
"""

from __future__ import annotations

import email.utils
import re
import socket
from http import HTTPStatus
from typing import BinaryIO, NamedTuple

from voigpt.emulator.records import RecordedRequest
from voigpt.emulator.responses import Response

MAX_HEAD = 64 * 1024  # request line and headers together
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024
SERVER = "voigpt-emulator/1.0"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")


class ClientGone(Exception):
    """The connection ended in the middle of a request."""


class BadRequest(Exception):
    """A request to refuse with ``status``; ``request`` is its head when that parsed."""

    def __init__(self, status: int, message: str, request: RecordedRequest | None = None):
        super().__init__(message)
        self.status, self.message, self.request = status, message, request


class Head(NamedTuple):
    request: RecordedRequest  # its body is still to be read: ``length`` bytes
    length: int
    keep_alive: bool
    http10: bool


def _readline(rfile: BinaryIO, budget: int, status: int) -> bytes:
    """One line of at most ``budget`` bytes (else ``BadRequest(status)``); b"" at EOF."""
    line = rfile.readline(max(budget, 0) + 1)
    if len(line) > budget:
        raise BadRequest(status, f"{HTTPStatus(status).phrase}.")
    if line and not line.endswith(b"\n"):
        raise ClientGone
    return line


def read_head(rfile: BinaryIO, client: tuple[str, int]) -> Head | None:
    """The next request head, or None when the client closed between requests."""
    line = _readline(rfile, MAX_HEAD, 414)
    while line in (b"\r\n", b"\n"):  # RFC 9112 2.2: ignore empty lines before a request
        line = _readline(rfile, MAX_HEAD, 414)
    if not line:
        return None
    words = line.decode("latin-1").split()
    version = _VERSION.fullmatch(words[2]) if len(words) == 3 else None
    if version is None or not _TOKEN.fullmatch(words[0]):
        raise BadRequest(400, "Bad request line.")
    if version[1] != "1":
        raise BadRequest(505, "HTTP version not supported.")
    budget, headers, lengths = MAX_HEAD - len(line), dict[str, str](), list[str]()
    for _ in range(MAX_HEADERS + 1):
        raw = _readline(rfile, budget, 431)
        budget -= len(raw)
        if not raw:
            raise ClientGone
        if raw in (b"\r\n", b"\n"):
            break
        name, colon, value = raw.decode("latin-1").partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadRequest(400, "Malformed header field.")
        key, value = name.lower(), value.strip()
        if key == "content-length":
            lengths.extend(v.strip() for v in value.split(","))
        if key in headers:
            value = headers[key] + ("; " if key == "cookie" else ", ") + value
        headers[key] = value
    else:
        raise BadRequest(431, f"More than {MAX_HEADERS} header fields.")
    request = RecordedRequest(words[0], words[1], headers, b"", client)
    if "transfer-encoding" in headers:
        raise BadRequest(411, "Send the body with a Content-Length, not chunked.", request)
    if len(set(lengths)) > 1 or not all(v.isascii() and v.isdigit() for v in lengths):
        raise BadRequest(400, "Invalid Content-Length header.", request)
    length = lengths[0] if lengths else "0"
    if len(length) > 18 or int(length) > MAX_BODY:
        raise BadRequest(413, f"Request body larger than {MAX_BODY} bytes.", request)
    options = {o.strip().lower() for o in headers.get("connection", "").split(",")}
    keep_alive = "close" not in options and (version[2] != "0" or "keep-alive" in options)
    return Head(request, int(length), keep_alive, version[2] == "0")


def send(sock: socket.socket, response: Response, *, keep_alive: bool, http10: bool = False,
         bare: bool = False) -> None:
    """Write ``response`` (only its head when ``bare``): head and body in one send, so no
    Nagle/delayed-ACK stall; a streamed body in its chunks, the first with the head."""
    lines = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
             f"Date: {email.utils.formatdate(usegmt=True)}"]
    if not any(name.lower() == "server" for name, _ in response.headers):
        lines.append(f"Server: {SERVER}")
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    if not keep_alive or http10:
        lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    if response.status not in (204, 304):
        lines.append(f"Content-Length: {response.content_length}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if bare or response.status in (204, 304):
        sock.sendall(head)
    elif response.chunks is None:
        sock.sendall(head + response.body)
    else:
        for chunk in response.chunks:
            sock.sendall(head + chunk)
            head = b""
