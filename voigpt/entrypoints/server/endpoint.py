"""What every completion endpoint does around its own dialect, as a plain ASGI endpoint:
read the body, decode it, check it with the dialect's request model (the same model, and
so the same 400s, as the OpenAPI document shows), hold a slot for the completion while the
client is watched for going away, and send the answer whole, or the error in the app's one
error mapping. A dialect (``completions.py``, ``legacy_completions.py``) only says how its
request becomes a conversation and how the completion becomes its answer (``respond``).

These endpoints are served without FastAPI's per-request machinery (``front.py`` sends
them here straight from the gate); FastAPI still documents them (``openapi.py``). The
site does not stream, so a streamed answer is sent whole once the reply exists, and every
error before that gets its real status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

import orjson
import pydantic

from voigpt.domain.tools import OutputSpec
from voigpt.domain.values import Completion, Conversation
from voigpt.entrypoints.server.disconnect import gone, until_disconnected
from voigpt.entrypoints.server.errors import APIError, ErrorAnswers, from_validation
from voigpt.entrypoints.server.gate import Receive, Scope, Send
from voigpt.entrypoints.server.model_ids import ModelIds
from voigpt.entrypoints.server.upstream import Upstream

JSON = [(b"content-type", b"application/json")]
EVENT_STREAM = [
    (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass the events on as they come
]
R = TypeVar("R", bound=pydantic.BaseModel)


class Endpoint(Generic[R]):
    """One dialect's endpoint: ``request`` is its request model; ``respond`` its answer.
    ``answer_error`` turns whatever a request raised into its response."""

    request: type[R]

    def __init__(
        self, upstream: Upstream, models: ModelIds, *,
        log_prompts: bool, answer_error: ErrorAnswers,
    ) -> None:
        self.upstream, self.models = upstream, models
        self.log_prompts = log_prompts
        self.answer_error = answer_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = parse(scope, await _read_body(receive), self.request)
            answer = await self.respond_to(scope, body, receive)
        except Exception as exc:  # every failure is an answer in the app's error shape
            await self.answer_error(exc, scope)(scope, receive, send)
            return
        await answer.send(send)

    async def respond(self, body: R, receive: Receive) -> Answer:
        raise NotImplementedError

    async def respond_to(self, scope: Scope, body: R, receive: Receive) -> Answer:
        """``respond``; a dialect that needs the request's scope too (whose key sent it:
        ``gate.KEY_HASH``) answers here instead."""
        return await self.respond(body, receive)

    async def complete(self, conversation: Conversation, model: str,
                       receive: Receive, spec: OutputSpec | None = None) -> Completion:
        """The completion, in a slot. Watched while it waits for the slot too: a client
        that leaves the queue frees its place in it, rather than waiting out the queue
        timeout for nobody. ``spec``: the tools and format asked for (None: text)."""
        return await until_disconnected(receive, self.upstream.complete(conversation, model,
                                                                         spec))


class Answer:
    """A 200: its media type, its body and the completion's id (``x-request-id``)."""

    __slots__ = ("body", "headers")

    def __init__(self, media: list[tuple[bytes, bytes]], text: str, identifier: str) -> None:
        self.body = text.encode()
        self.headers = [
            *media, (b"content-length", str(len(self.body)).encode()),
            (b"x-request-id", identifier.encode()),
        ]

    @classmethod
    def events(cls, chunks: Iterable[Any], identifier: str) -> Answer:
        """Server-Sent Events: each chunk's JSON, then ``data: [DONE]``."""
        events = "".join(f"data: {encode(chunk)}\n\n" for chunk in chunks)
        return cls(EVENT_STREAM, events + "data: [DONE]\n\n", identifier)

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def parse(scope: Scope, body: bytes, model: type[R]) -> R:
    """The request in ``body``, checked by ``model``; an ``APIError`` (400) says what is
    wrong."""
    try:
        # from_attributes as FastAPI validates bodies: the same messages for the same input
        return model.model_validate(_document(scope, body), from_attributes=True)
    except pydantic.ValidationError as exc:
        raise from_validation(exc.errors()) from None


def _document(scope: Scope, body: bytes) -> object:
    """The JSON document in ``body``; the bytes themselves if the Content-Type is not JSON
    (refused by the model, with a hint), None if there is no body. With no Content-Type,
    the body is not taken for JSON either: a client that sends none may be sending
    anything, and the hint tells it what to send. orjson reads strict JSON as the stdlib
    does, about 5x faster; what it will not read (a BOM, another UTF, NaN, a lone
    surrogate, a huge number, bad bytes, deep nesting) the stdlib reads, or refuses with
    the message it always gave."""
    if not body:
        return None
    if not _says_json(scope):
        return body
    if _LONG_NUMBER.search(body) is None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # not strict UTF-8 JSON: the stdlib reads it, or says why not
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise APIError(400, "the body is not valid JSON", code="invalid_json") from None
    except UnicodeDecodeError:
        raise APIError(400, "the body is not valid UTF-8 JSON", code="invalid_json") from None
    except RecursionError:
        raise APIError(400, "the body is not valid JSON: it is nested too deeply",
                       code="invalid_json") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise APIError(400, "the body is not valid JSON: it holds a number too long to read",
                       code="invalid_json") from None


# orjson reads an integer past 64 bits as a float (10**20 becomes 1e+20), which would change
# what the client sent: a body with a run of 19 digits or more is the stdlib's to read.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def _says_json(scope: Scope) -> bool:
    """Content-Type ``application/json`` or ``application/*+json`` (any parameters)."""
    value: bytes
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind = value.partition(b";")[0].strip().lower()
            main, _, sub = kind.partition(b"/")
            return main == b"application" and (sub == b"json" or sub.endswith(b"+json"))
    return False


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away mid-body
            raise gone()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


_stdlib_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode(value: object) -> str:
    """Compact JSON text, non-ASCII as is. orjson writes it (a chat answer: 0.45 µs against
    the stdlib encoder's 6.2); what orjson refuses (an integer past 64 bits, a lone
    surrogate) the stdlib writes as it always did.
    Apart from those, the two differ only in how a float is spelled (``1e-07`` or ``1e-7``)
    and in a non-finite float, which orjson writes as ``null`` (the stdlib's ``NaN`` is not
    JSON)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError
        return _stdlib_encode(value)
