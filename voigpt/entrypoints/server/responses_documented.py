"""What the OpenAPI document says of the Responses API's routes and answers
(``responses.py`` serves them, outside FastAPI's per-request machinery, and these
functions are never called; the answers are written as plain dicts by
``entrypoints.responses_format`` and ``entrypoints.responses_tools``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from voigpt.entrypoints.server import openapi
from voigpt.entrypoints.server.protocol import ErrorResponse
from voigpt.entrypoints.server.responses_protocol import ResponseRequest

PATH = "/v1/responses"
STORED = PATH + "/{response_id}"


class OutputText(BaseModel):
    type: Literal["output_text"]
    text: str
    annotations: list[Any]


class OutputMessage(BaseModel):
    id: str
    type: Literal["message"]
    status: Literal["completed", "in_progress"]
    role: Literal["assistant"]
    content: list[OutputText]


class OutputFunctionCall(BaseModel):
    id: str
    type: Literal["function_call"]
    status: Literal["completed", "in_progress"]
    call_id: str
    name: str
    arguments: str = Field(description="the JSON of the arguments")


class ResponseUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: dict[str, int]
    output_tokens_details: dict[str, int]


class ResponseObject(BaseModel):
    """The answer; with ``stream: true``, Server-Sent Events instead: response.created,
    response.in_progress, response.output_item.added, response.content_part.added,
    response.output_text.delta, response.output_text.done, response.content_part.done,
    response.output_item.done, response.completed; for a function call, its item added,
    response.function_call_arguments.delta and .done, and the item done. Usage counts are
    an estimate."""

    id: str
    object: Literal["response"]
    created_at: int
    status: Literal["completed", "in_progress"]
    model: str
    output: list[OutputMessage | OutputFunctionCall]
    usage: ResponseUsage | None
    error: None
    incomplete_details: None
    previous_response_id: str | None
    store: bool


class Deleted(BaseModel):
    id: str
    object: Literal["response"]
    deleted: bool


class InputItemList(BaseModel):
    object: Literal["list"]
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool


# What the document says of POST /v1/responses; ``Responses`` serves it.
async def create_response(body: ResponseRequest) -> ResponseObject:
    """OpenAI's Responses API. Function tools and text.format (json_object, json_schema)
    are emulated: the model is told of them and its reply is read back, checked against
    the schemas and repaired once (then a 502, invalid_model_reply). Sampling and
    reasoning parameters are accepted and ignored; hosted tools, include of what this
    server cannot give and background are refused. Usage counts are an estimate."""
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
