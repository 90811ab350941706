"""``POST /v1/chat/completions``: parse, call the use case, format, as a plain ASGI endpoint.

It is the server's one hot route, so it is served without FastAPI's per-request machinery
(``front.py`` sends it here straight from the gate); FastAPI still documents it
(``openapi.py``). The body is read whole, decoded as JSON when its Content-Type says JSON,
and checked by ``ChatCompletionRequest``: the same model, and so the same 400s, as the
document shows.

The site does not stream, so a streamed answer is sent whole once the reply exists: the
role chunk, the content in one chunk, the ``finish_reason`` chunk, the usage chunk when
asked for, then ``data: [DONE]``. Every error before that gets its real status. A client
that goes away cancels its completion, which gives its slot back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any

import pydantic

from voigpt.async_client import AsyncClient
from voigpt.domain.values import Completion, Conversation, resolve_model
from voigpt.entrypoints.openai_format import chat_completion, chat_completion_chunks, completion_id
from voigpt.entrypoints.server.errors import APIError, ErrorAnswers, from_validation
from voigpt.entrypoints.server.gate import Receive, Scope, Send
from voigpt.entrypoints.server.protocol import ChatCompletionRequest
from voigpt.entrypoints.server.slots import Slots

logger = logging.getLogger("voigpt.server")
JSON = [(b"content-type", b"application/json")]
EVENT_STREAM = [
    (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass the events on as they come
]



class Completions:
    """The endpoint. ``answer_error`` turns whatever a request raised into its response
    (the app's one error mapping, shared with the FastAPI routes)."""

    def __init__(
        self, client: AsyncClient, slots: Slots, models: tuple[str, ...], *,
        log_prompts: bool, answer_error: ErrorAnswers,
    ) -> None:
        self.client, self.slots, self.models = client, slots, models
        self.log_prompts = log_prompts
        self.answer_error = answer_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = parse(scope, await _read_body(receive))
            answer = await self.respond(body, receive)
        except Exception as exc:  # every failure is an answer in OpenAI's shape
            await self.answer_error(exc, scope)(scope, receive, send)
            return
        await answer.send(send)

    async def respond(self, body: ChatCompletionRequest, receive: Receive) -> Answer:
        model = resolve_model(body.model)
        if model not in self.models:
            raise APIError(
                404, f"the model {model!r} does not exist; GET /v1/models lists the models",
                param="model", code="model_not_found",
            )
        conversation: Conversation = body.messages
        # Watched while it waits for a slot too: a client that leaves the queue frees its
        # place in it, rather than waiting out the queue timeout for nobody.
        completion = await until_disconnected(receive, self._complete(conversation, model))
        if self.log_prompts:
            logger.debug("prompt %r -> reply %r", conversation.to_dicts(), completion.text)
        identifier = completion_id()
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = chat_completion_chunks(
                conversation, completion, id=identifier, include_usage=include_usage
            )
            events = "".join(f"data: {_json(chunk)}\n\n" for chunk in chunks)
            return Answer(EVENT_STREAM, events + "data: [DONE]\n\n", identifier)
        document = chat_completion(conversation, completion, id=identifier)
        return Answer(JSON, _json(document), identifier)


    async def _complete(self, conversation: Conversation, model: str) -> Completion:
        async with self.slots:
            return await self.client.complete(conversation, model=model)


class Answer:
    """A 200: its media type, its body and the completion's id (``x-request-id``)."""

    __slots__ = ("body", "headers")

    def __init__(self, media: list[tuple[bytes, bytes]], text: str, identifier: str) -> None:
        self.body = text.encode()
        self.headers = [
            *media, (b"content-length", str(len(self.body)).encode()),
            (b"x-request-id", identifier.encode()),
        ]

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def parse(scope: Scope, body: bytes) -> ChatCompletionRequest:
    """The request in ``body``, checked; an ``APIError`` (400) says what is wrong."""
    try:
        # from_attributes as FastAPI validates bodies: the same messages for the same input
        return ChatCompletionRequest.model_validate(_document(scope, body), from_attributes=True)
    except pydantic.ValidationError as exc:
        raise from_validation(exc.errors()) from None


def _document(scope: Scope, body: bytes) -> object:
    """The JSON document in ``body``; the bytes themselves if the Content-Type is not JSON
    (refused by the model, with a hint), None if there is no body. With no Content-Type,
    the body is not taken for JSON either: a client that sends none may be sending
    anything, and the hint tells it what to send."""
    if not body:
        return None
    if not _says_json(scope):
        return body
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
            raise _gone()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


# A completion still running after this many seconds starts being watched for its client
# going away. Sooner, a watcher would cost more than the completion (a task of its own,
# on a path that serves thousands of completions a second); the site itself takes
# seconds, so every real completion is watched, and a client that left is noticed at most
# this late.
WATCH_AFTER = 0.02


async def until_disconnected(receive: Receive, work: Awaitable[Completion]) -> Completion:
    """``work``'s result, awaited in this task; if the client disconnects first, ``work``
    is cancelled and the answer is 499."""
    task = asyncio.current_task()
    assert task is not None
    watch = _Watch(receive, task)
    timer = asyncio.get_running_loop().call_later(WATCH_AFTER, watch.start)
    try:
        result = await work
    except asyncio.CancelledError:
        if not watch.gone:
            raise  # the server is stopping this request
        _uncancel(task)
        raise _gone() from None
    finally:
        timer.cancel()
        watch.stop()
    if watch.gone:  # cancelled, but something under ``work`` swallowed the cancellation
        _uncancel(task)
        raise _gone()
    return result


def _gone() -> APIError:
    return APIError(499, "the client closed the request", code="client_disconnected")


class _Watch:
    """Waits for the client's disconnect in a task of its own; cancels ``task`` if it comes
    while the completion is still running."""

    __slots__ = ("_over", "_receive", "_task", "_watcher", "gone")

    def __init__(self, receive: Receive, task: asyncio.Task[Any]) -> None:
        self._receive, self._task = receive, task
        self._watcher: asyncio.Task[None] | None = None
        self._over = False
        self.gone = False

    def start(self) -> None:
        if not self._over:
            self._watcher = asyncio.ensure_future(_disconnect(self._receive))
            self._watcher.add_done_callback(self._ended)

    def stop(self) -> None:
        self._over = True
        if self._watcher is not None:
            self._watcher.cancel()

    def _ended(self, watcher: asyncio.Task[None]) -> None:
        if not self._over and not watcher.cancelled() and watcher.exception() is None:
            self.gone = True
            self._task.cancel()


def _uncancel(task: asyncio.Task[Any]) -> None:
    """Take back the cancellation this module asked for (3.11+ counts them)."""
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


async def _disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            return


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
