"""``POST /v1/chat/completions``: parse (done by the model), call the use case, format.

The site does not stream, so a streamed answer is sent whole once the reply exists: the
role chunk, the content in one chunk, the ``finish_reason`` chunk, the usage chunk when
asked for, then ``data: [DONE]``. Every error before that gets its real status. A client
that goes away cancels its completion, which gives its slot back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from voigpt.async_client import AsyncClient
from voigpt.domain.values import Completion, resolve_model
from voigpt.entrypoints.openai_format import chat_completion, chat_completion_chunks, completion_id
from voigpt.entrypoints.server.errors import APIError
from voigpt.entrypoints.server.protocol import ChatCompletionRequest
from voigpt.entrypoints.server.slots import Slots

logger = logging.getLogger("voigpt.server")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Completions:
    def __init__(
        self, client: AsyncClient, slots: Slots, models: tuple[str, ...], *, log_prompts: bool
    ) -> None:
        self.client, self.slots, self.models = client, slots, models
        self.log_prompts = log_prompts

    async def __call__(self, body: ChatCompletionRequest, request: Request) -> Response:
        model = resolve_model(body.model)
        if model not in self.models:
            raise APIError(
                404, f"the model {model!r} does not exist; GET /v1/models lists the models",
                param="model", code="model_not_found",
            )
        conversation = body.messages
        async with self.slots.held():
            completion: Completion = await until_disconnected(
                request.receive, self.client.complete(conversation, model=model)
            )
        if self.log_prompts:
            logger.debug("prompt %r -> reply %r", conversation.to_dicts(), completion.text)
        identifier = completion_id()
        headers = {"x-request-id": identifier}
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = chat_completion_chunks(
                conversation, completion, id=identifier, include_usage=include_usage
            )
            events = "".join(f"data: {_json(chunk)}\n\n" for chunk in chunks)
            return Response(
                events + "data: [DONE]\n\n", media_type="text/event-stream",
                headers={**SSE_HEADERS, **headers},
            )
        document = chat_completion(conversation, completion, id=identifier)
        return Response(_json(document), media_type="application/json", headers=headers)


async def until_disconnected(
    receive: Callable[[], Awaitable[Any]], work: Coroutine[Any, Any, Completion]
) -> Completion:
    """``work``'s result; if the client disconnects first, ``work`` is cancelled."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the server is stopping this request
        task.cancel()
        watcher.cancel()
        raise
    if task.done():
        watcher.cancel()
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):  # the client is gone anyway
        await task
    if not watcher.cancelled():
        watcher.exception()  # retrieved, so that asyncio does not warn about it
    raise APIError(499, "the client closed the request", code="client_disconnected")


async def _disconnect(receive: Callable[[], Awaitable[Any]]) -> None:
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            return


def _json(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
