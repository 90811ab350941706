"""OpenAI's Responses API: ``POST /v1/responses``, and the stored responses at
``GET``/``DELETE /v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items``, on the
same use case, gate, slots, disconnect watch and error mapping as the chat route
(``endpoint.py``), and the same model-id rule (``model_ids.py``). Only the shapes are the
Responses API's (``responses_protocol.py``, ``entrypoints.responses_format``).

A response is stored unless the request says ``store: false``, in the app's
``ResponseStore`` (the port; in-process and bounded today): its input items, its
answer, and the conversation so far, which ``previous_response_id`` continues. When the
server has keys, a stored response belongs to the key that made it (its hash is kept,
never the key): any other key gets the same 404 as an id that never was. The site does
not stream, so a streamed answer is sent whole once the reply exists, and every error
before that gets its real status.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voigpt.domain.values import Conversation
from voigpt.entrypoints import responses_format as shapes
from voigpt.entrypoints.server import responses_asked as asked
from voigpt.entrypoints.server.endpoint import EVENT_STREAM, JSON, Answer, Endpoint, encode
from voigpt.entrypoints.server.errors import APIError
from voigpt.entrypoints.server.gate import KEY_HASH, Receive, Scope
from voigpt.entrypoints.server.responses_documented import DOCUMENTED, PATH, STORED
from voigpt.entrypoints.server.responses_protocol import ID_PATTERN, ResponseRequest, Turns
from voigpt.ports.response_store import ResponseStore

__all__ = ["DOCUMENTED", "PATH", "STORED", "Responses", "stored_routes"]
logger = logging.getLogger("voigpt.server")
_ID = re.compile(ID_PATTERN)


class Responses(Endpoint[ResponseRequest]):
    """``POST /v1/responses``; ``store`` is set by ``create_app``."""

    request = ResponseRequest
    store: ResponseStore

    async def respond_to(self, scope: Scope, body: ResponseRequest,
                         receive: Receive) -> Answer:
        model = self.models.require(body.model)
        tooled = asked.read(body) if asked.asks(body) else None  # its 400s before any I/O
        owner = scope.get(KEY_HASH)
        history: Turns = ()
        if body.previous_response_id is not None:
            record = await find(self.store, body.previous_response_id, owner)
            if record is None:  # 404, the status of every unknown id here
                raise APIError(404, f"Previous response with id "
                               f"'{body.previous_response_id}' not found.",
                               param="previous_response_id",
                               code="previous_response_not_found")
            history = tuple((role, text) for role, text in record["context"])
        turns = body.input.turns
        opening: Turns = (("system", body.instructions),) if body.instructions else ()
        conversation = Conversation.from_pairs((*opening, *history, *turns))
        completion = await self.complete(conversation, model, receive,
                                         None if tooled is None else tooled.spec)
        if self.log_prompts:
            logger.debug("prompt %r -> reply %r", conversation.to_dicts(), completion.text)
        identifier, created = shapes.response_id(), int(time.time())
        options = body.options()
        if tooled is None:
            item = shapes.output_item(shapes.item_id(), completion.text)
            document = shapes.encoded_response(options, id=identifier, created_at=created,
                                               model=completion.model,
                                               conversation=conversation, item=item)
            reply = completion.text
        else:
            answered = asked.answer(tooled, options, completion, conversation,
                                    id=identifier, created_at=created)
            document, reply = encode(answered.done), answered.text
        if body.store is not False:
            context = [*history, *turns, ("assistant", reply)]
            items = body.input.listed or [shapes.input_item(*turn) for turn in turns]
            # {"owner", "response", "input_items", "context"}, around the answer's JSON
            await self.store.put(identifier, "".join((
                '{"owner":', "null" if owner is None else encode(owner),
                ',"response":', document, ',"input_items":', encode(items),
                ',"context":', encode(context), "}",
            )).encode())
        if not body.stream:
            return Answer(JSON, document, identifier)
        if tooled is None:
            return Answer(EVENT_STREAM, shapes.events(
                options, conversation, id=identifier, created_at=created,
                model=completion.model, item=item), identifier)
        return Answer(EVENT_STREAM, asked.events(answered), identifier)


async def find(store: ResponseStore, identifier: str, owner: str | None) -> Any:
    """The record of ``identifier`` if ``owner`` made it (or no key made it), else None."""
    if not _ID.match(identifier):
        return None
    raw = await store.get(identifier)
    if raw is None:
        return None
    record = json.loads(raw)
    return record if record["owner"] == owner else None


def stored_routes(store: ResponseStore) -> list[Route]:
    """The routes of stored responses, through FastAPI's router (none of them is hot);
    ``DOCUMENTED`` describes them."""

    async def record_of(request: Request) -> Any:
        response_id: str = request.path_params["response_id"]
        record = await find(store, response_id, request.scope.get(KEY_HASH))
        if record is None:
            raise APIError(404, f"Response with id '{response_id[:120]}' not found.",
                           param="response_id", code="not_found")
        return record

    async def one(request: Request) -> Response:
        record = await record_of(request)
        if request.method == "GET":
            return _json(record["response"])
        response_id = request.path_params["response_id"]
        await store.delete(response_id)
        return _json({"id": response_id, "object": "response", "deleted": True})

    async def input_items(request: Request) -> Response:
        limit, order, after = _page(request.query_params)
        items: list[dict[str, Any]] = (await record_of(request))["input_items"]
        if order == "desc":
            items.reverse()
        if after is not None:
            ids = [item["id"] for item in items]
            items = items[ids.index(after) + 1:] if after in ids else []
        page = items[:limit]
        return _json({"object": "list", "data": page,
                      "first_id": page[0]["id"] if page else None,
                      "last_id": page[-1]["id"] if page else None,
                      "has_more": len(items) > limit})

    return [Route(STORED, one, methods=["GET", "DELETE"], include_in_schema=False),
            Route(STORED + "/input_items", input_items, methods=["GET"],
                  include_in_schema=False)]


def _page(query: Mapping[str, str]) -> tuple[int, str, str | None]:
    """``limit`` (1 to 100, default 20), ``order`` (``asc``, default ``desc``), ``after``."""
    limit = query.get("limit", "20")
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 100):
        raise APIError(400, "limit must be a whole number from 1 to 100", param="limit",
                       code="invalid_value")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise APIError(400, "order must be 'asc' or 'desc'", param="order", code="invalid_value")
    return int(limit), order, query.get("after")


def _json(document: Any) -> Response:
    return Response(encode(document), media_type="application/json")
