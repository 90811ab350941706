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
from typing import Any, Literal

from fastapi import Query
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voigpt.domain.values import Conversation
from voigpt.entrypoints import responses_format as shapes
from voigpt.entrypoints.server import openapi
from voigpt.entrypoints.server.endpoint import EVENT_STREAM, JSON, Answer, Endpoint, encode
from voigpt.entrypoints.server.errors import APIError
from voigpt.entrypoints.server.gate import KEY_HASH, Receive, Scope
from voigpt.entrypoints.server.protocol import ErrorResponse
from voigpt.entrypoints.server.responses_protocol import (
    ID_PATTERN,
    Deleted,
    InputItemList,
    ResponseObject,
    ResponseRequest,
    Turns,
)
from voigpt.ports.response_store import ResponseStore

logger = logging.getLogger("voigpt.server")
PATH = "/v1/responses"
STORED = PATH + "/{response_id}"
_ID = re.compile(ID_PATTERN)


class Responses(Endpoint[ResponseRequest]):
    """``POST /v1/responses``; ``store`` is set by ``create_app``."""

    request = ResponseRequest
    store: ResponseStore

    async def respond_to(self, scope: Scope, body: ResponseRequest,
                         receive: Receive) -> Answer:
        model = self.models.require(body.model)
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
        opening: Turns = (("system", body.instructions),) if body.instructions else ()
        conversation = Conversation.from_dicts(
            [{"role": role, "content": text} for role, text in (*opening, *history, *body.input)]
        )
        completion = await self.complete(conversation, model, receive)
        if self.log_prompts:
            logger.debug("prompt %r -> reply %r", conversation.to_dicts(), completion.text)
        identifier, created = shapes.response_id(), int(time.time())
        item = shapes.output_item(shapes.item_id(), completion.text)
        options = body.options()
        document = shapes.encoded_response(options, id=identifier, created_at=created,
                                           model=completion.model, conversation=conversation,
                                           item=item)
        if body.store is not False:
            context = [*history, *body.input, ("assistant", completion.text)]
            items = [shapes.input_item(role, text) for role, text in body.input]
            # {"owner", "response", "input_items", "context"}, around the answer's JSON
            await self.store.put(identifier, "".join((
                '{"owner":', "null" if owner is None else encode(owner),
                ',"response":', document, ',"input_items":', encode(items),
                ',"context":', encode(context), "}",
            )).encode())
        if body.stream:
            events = shapes.events(options, conversation, id=identifier, created_at=created,
                                   model=completion.model, item=item)
            return Answer(EVENT_STREAM, events, identifier)
        return Answer(JSON, document, identifier)


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


# What the document says of POST /v1/responses; ``Responses`` serves it.
async def create_response(body: ResponseRequest) -> ResponseObject:
    """OpenAI's Responses API. Sampling and reasoning parameters are accepted and ignored;
    tools, a text.format other than text, include of what this server cannot give and
    background are refused. Usage counts are an estimate."""
    raise NotImplementedError("documentation only: Responses serves this route")


async def get_response(response_id: str) -> ResponseObject:
    """A stored response, as it was answered. Another key's is not found."""
    raise NotImplementedError("documentation only")


async def delete_response(response_id: str) -> Deleted:
    """Forget a stored response."""
    raise NotImplementedError("documentation only")


async def list_input_items(
    response_id: str, limit: int = Query(20, ge=1, le=100),
    order: Literal["asc", "desc"] = "desc", after: str | None = None,
) -> InputItemList:
    """A stored response's own input items (not those of the responses it continues)."""
    raise NotImplementedError("documentation only")


_STORED_ERRORS: dict[int | str, dict[str, Any]] = {
    **{status: openapi.COMPLETION_RESPONSES[status] for status in (400, 401)},
    404: {"model": ErrorResponse, "description": "No stored response with this id (never "
          "stored, expired, deleted, or stored with another key)."},
}
DOCUMENTED = (APIRoute(
    PATH, create_response, methods=["POST"], response_model=ResponseObject,
    responses={**openapi.COMPLETION_RESPONSES, 200: {
        **openapi.COMPLETION_RESPONSES[200],
        "description": "The response; with stream: true, Server-Sent Events, each named "
        "by its type and numbered by sequence_number, ending with response.completed.",
    }},
    summary="Create a response",
), APIRoute(STORED, get_response, methods=["GET"], response_model=ResponseObject,
            responses=_STORED_ERRORS, summary="Get a stored response"),
    APIRoute(STORED, delete_response, methods=["DELETE"], response_model=Deleted,
             responses=_STORED_ERRORS, summary="Delete a stored response"),
    APIRoute(STORED + "/input_items", list_input_items, methods=["GET"],
             response_model=InputItemList, responses=_STORED_ERRORS,
             summary="List a stored response's input items"))
