"""What every request passes before and after its route, as one plain ASGI middleware
(no per-request task or copy of the body):

- ``/v1/*`` needs ``Authorization: Bearer KEY`` (or ``x-api-key: KEY``, as Anthropic's
  clients send it) when keys are configured; what is offered is compared with every
  configured key in constant time, so timing tells nothing.
- A body larger than the cap is refused with 413: at once when ``Content-Length`` says
  so, else (a chunked body) as soon as the bytes received pass it, without reading the
  rest. A body whose ``Content-Length`` is within the cap is not counted again: the parser
  hands the app exactly that many bytes.
- Each answer is counted by route template and status; a refused request by the template
  of the route it was for (``find_route``), though it never reached it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from voigpt.entrypoints.server.errors import APIError, ErrorAnswers
from voigpt.entrypoints.server.metrics import ServerMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROTECTED_PREFIX = "/v1"
# In the scope of a request that passed with a key: the key's SHA-256 (hex), never the key.
# What a request stores (a response) belongs to it (``responses.py``).
KEY_HASH = "voigpt.key_hash"


class Gate:
    def __init__(
        self, app: ASGIApp, *, keys: tuple[str, ...], max_body_bytes: int,
        metrics: ServerMetrics, answer_error: ErrorAnswers,
        find_route: Callable[[Scope], object],
    ) -> None:
        self.app = app
        self.keys = tuple(key.encode() for key in keys)
        # What a stored response records of its owner, worked out once per configured key.
        self._key_hashes = {key: hashlib.sha256(key).hexdigest() for key in self.keys}
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.answer_error = answer_error
        self.find_route = find_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counted = _Counted(send)
        try:
            refusal, sized = self._refusal(scope)
            if refusal is not None:
                scope["route"] = self.find_route(scope)
                await self.answer_error(refusal, scope)(scope, receive, counted)
                return
            await self.app(scope, receive if sized else self._capped(receive), counted)
        except asyncio.CancelledError:
            # The server cut the request before it had an answer (SIGTERM, then the drain
            # timeout): what the client gets is the connections' 503 (outermost.py).
            counted.status = counted.status or 503
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.answered(template, scope["method"], counted.status or 500)

    def _refusal(self, scope: Scope) -> tuple[APIError | None, bool]:
        """The refusal, if any, and whether the body is exactly as long as a
        ``Content-Length`` within the cap says, so that it needs no counting (not chunked)."""
        path = route_path(scope)
        protected = path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")
        if (self.keys and protected and scope["method"] != "OPTIONS"
                and not self._authorized(scope)):
            return APIError(
                401, "a valid API key is required: send 'Authorization: Bearer KEY' "
                "or 'x-api-key: KEY'",
                code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"},
            ), False
        sized = chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_body_bytes:
                    return self._too_large(), False
                sized = True
            elif name == b"transfer-encoding":
                chunked = True
        return None, sized and not chunked

    def _authorized(self, scope: Scope) -> bool:
        bearer = api_key = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credential = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    bearer = credential.strip()
            elif name == b"x-api-key":
                api_key = value.strip()
        matched = b""
        for key in self.keys:  # every key is compared, whichever matches
            if (bool(bearer) and hmac.compare_digest(bearer, key)) | (
                    bool(api_key) and hmac.compare_digest(api_key, key)):
                matched = key
        if matched:
            scope[KEY_HASH] = self._key_hashes[matched]
        return bool(matched)

    def _too_large(self) -> APIError:
        return APIError(
            413, f"the request body is larger than {self.max_body_bytes} bytes",
            code="request_too_large",
        )

    def _capped(self, receive: Receive) -> Receive:
        received = 0

        async def capped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large()
            return message

        return capped


class _Counted:
    """``send``, noting the status the answer starts with. Not a coroutine of its own: it
    hands back ``send``'s, so an answer costs no extra frame to send."""

    __slots__ = ("send", "status")

    def __init__(self, send: Send) -> None:
        self.send, self.status = send, 0  # none yet

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        return self.send(message)


def route_path(scope: Scope) -> str:
    """The path the app routes on: ``path`` without ``root_path``, which a mount (the app
    inside another ASGI app, under a prefix) adds to both, as Starlette's router reads it.
    So ``/api/v1/models``, with the app mounted at ``/api``, is ``/v1/models`` here too, and
    needs the key."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):]
    return path
