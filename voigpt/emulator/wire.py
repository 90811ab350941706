"""HTTP/1.1 on the wire, strictly: a request head is read only when it arrived whole (else
``ConnectionAbortedError``: dropped, never served); a malformed one raises ``BadRequest`` with
the status to answer (400, 411, 413, 414, 431 or 505) before closing."""

from __future__ import annotations

import email.utils
import re
import socket
from http import HTTPStatus
from io import BufferedReader
from typing import NamedTuple

from voigpt.emulator.records import RecordedRequest
from voigpt.emulator.responses import Response

MAX_HEAD = 64 * 1024  # request line and headers together
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")


class BadRequest(Exception):
    """A request to refuse with ``status``; ``request`` is its head when that parsed."""

    def __init__(self, status: int, message: str, request: RecordedRequest | None = None):
        super().__init__(message)
        self.status, self.request = status, request


class Head(NamedTuple):
    request: RecordedRequest  # its body is still to be read: ``length`` bytes
    length: int
    keep_alive: bool
    http10: bool


def _readline(rfile: BufferedReader, budget: int, status: int) -> bytes:
    """One whole line of at most ``budget`` bytes (else ``BadRequest(status)``)."""
    line = rfile.readline(max(budget, 0) + 1)
    if len(line) > budget:
        raise BadRequest(status, f"{HTTPStatus(status).phrase}.")
    if not line.endswith(b"\n"):
        raise ConnectionAbortedError("the client closed mid-request")
    return line


def read_head(rfile: BufferedReader, client: tuple[str, int]) -> Head | None:
    """The next request head, or None when the client closed between requests."""
    if not rfile.peek(1):
        return None
    line = _readline(rfile, MAX_HEAD, 414)
    while line in (b"\r\n", b"\n"):  # RFC 9112 2.2: ignore empty lines before a request
        line = _readline(rfile, MAX_HEAD, 414)
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


def send(sock: socket.socket, response: Response, head: Head | None = None) -> None:
    """Write ``response`` to the request ``head`` (None: a refused one, then the connection
    closes) in one send, so no Nagle/delayed-ACK stall."""
    keep_alive = head is not None and head.keep_alive
    lines = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
             f"Date: {email.utils.formatdate(usegmt=True)}"]
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    if not keep_alive or head is None or head.http10:  # HTTP/1.1 keeps alive unless told
        lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    if response.status != 204:
        lines.append(f"Content-Length: {len(response.body)}")
    body = b"" if head is not None and head.request.method == "HEAD" else response.body
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
