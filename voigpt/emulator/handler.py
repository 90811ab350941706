"""HTTP/1.1 plumbing: read a request (body by Content-Length), write each response in one send."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from voigpt.emulator.pages import error_page, server_error_page
from voigpt.emulator.records import RecordedRequest
from voigpt.emulator.responses import Drop, Response, encode_head, html_response
from voigpt.emulator.website import Site

MAX_BODY = 1024 * 1024  # larger request bodies get 413
DISCARD_LIMIT = 64 * 1024 * 1024  # read and drop at most this much of a refused body
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may sit idle


class EmulatorHandler(BaseHTTPRequestHandler):
    """Serves one connection (possibly many keep-alive requests) for a ``Site``."""

    protocol_version = "HTTP/1.1"
    server_version = "voigpt-emulator/1.0"
    timeout = IDLE_TIMEOUT

    def __init__(
        self,
        request: socket.socket | tuple[bytes, socket.socket],
        client_address: Any,
        server: Any,
        *,
        site: Site,
    ) -> None:
        self.site = site
        super().__init__(request, client_address, server)

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    # -- reading ---------------------------------------------------------------------------

    def _header_dict(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            if key in headers:
                value = headers[key] + ("; " if key == "cookie" else ", ") + value
            headers[key] = value
        return headers

    def _content_length(self) -> int | Response:
        """The declared body length, or the error response to send (and then close)."""
        if "Transfer-Encoding" in self.headers:
            message = "Chunked request bodies are not supported; send Content-Length."
            return html_response(411, error_page(411, message), close=True)
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return 0
        value = values.pop()
        if values or not value.isdigit():
            page = error_page(400, "Invalid Content-Length header.")
            return html_response(400, page, close=True)
        if int(value) > MAX_BODY:
            page = error_page(413, f"Request body larger than {MAX_BODY} bytes.")
            return html_response(413, page, close=True)
        return int(value)

    def _linger(self) -> None:
        """Half-close, then read and drop what the client still sends (until it closes, goes
        quiet for a second, or DISCARD_LIMIT), so it reads our error instead of a reset."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            remaining = DISCARD_LIMIT
            while remaining > 0:
                chunk = self.rfile.read1(64 * 1024)
                if not chunk:
                    break
                remaining -= len(chunk)

    # -- serving ---------------------------------------------------------------------------

    def _serve(self) -> None:
        record = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=self._header_dict(),
            body=b"",
            client=(str(self.client_address[0]), int(self.client_address[1])),
        )
        length = self._content_length()
        if isinstance(length, Response):
            self.site.record(record)
            self._send(length)
            self._linger()
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True  # the client went away mid-body
            return
        try:
            outcome = self.site.handle(replace(record, body=body))
        except Exception:
            self.site.logger.exception("voigpt emulator: internal error")
            outcome = html_response(500, server_error_page(500))
        if isinstance(outcome, Drop):
            self._drop()
        else:
            self._send(outcome)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()

    def _send(self, response: Response) -> None:
        if response.close:
            self.close_connection = True
        headers = list(response.headers)
        names = {name.lower() for name, _ in headers}
        if "server" not in names:
            headers.insert(0, ("Server", self.version_string()))
        headers.insert(1, ("Date", self.date_time_string()))
        if self.close_connection:
            headers.append(("Connection", "close"))
        elif self.request_version == "HTTP/1.0":
            headers.append(("Connection", "keep-alive"))
        head = encode_head(response.status, headers, content_length=response.content_length)
        if getattr(self, "command", None) == "HEAD" or response.status in (204, 304):
            self.wfile.write(head)
        elif response.chunks is None:
            self.wfile.write(head + response.body)  # one send: no Nagle/delayed-ACK stall
        else:
            pending = head
            for chunk in response.chunks:
                self.wfile.write(pending + chunk)
                pending = b""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by ``BaseHTTPRequestHandler`` itself (bad request line, 501, ...)."""
        self.close_connection = True
        text = message or HTTPStatus(code).phrase
        self._send(html_response(code, error_page(code, text), close=True))

    def log_message(self, format: str, *args: Any) -> None:
        self.site.logger.debug("%s %s", self.address_string(), format % args)
