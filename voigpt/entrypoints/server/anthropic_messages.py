"""Anthropic's Messages API: ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``,
on the same use case, gate (keys, also as ``x-api-key``), slots, disconnect watch and error
mapping as the chat route (``endpoint.py``), and the same model-id rule (``model_ids.py``).
Only the shapes are Anthropic's: the request (``anthropic_protocol.py``; its tools,
``tool_choice`` and output format read by ``entrypoints.anthropic_tools``), the
``message`` object and its events (``entrypoints.anthropic_format``), and the error body,
which the app's one error mapping gives every route under ``/v1/messages``
(``errors.body_for``).

The site does not stream, so a streamed answer is sent whole once the reply exists, and
every error before that gets its real status.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Route

from voigpt.entrypoints import anthropic_format
from voigpt.entrypoints.server.anthropic_answers import (
    AnthropicError,
    AnthropicMessage,
    TokenCount,
)
from voigpt.entrypoints.server.anthropic_protocol import CountTokensRequest, MessagesRequest
from voigpt.entrypoints.server.endpoint import EVENT_STREAM, JSON, Answer, Endpoint, encode
from voigpt.entrypoints.server.errors import ANTHROPIC_PATH, ErrorAnswers
from voigpt.entrypoints.server.gate import Receive
from voigpt.entrypoints.server.model_ids import ModelIds
from voigpt.entrypoints.server.upstream import Upstream

logger = logging.getLogger("voigpt.server")
PATH = ANTHROPIC_PATH
COUNT_TOKENS_PATH = PATH + "/count_tokens"


class Messages(Endpoint[MessagesRequest]):
    """``POST /v1/messages``."""

    request = MessagesRequest

    async def respond(self, body: MessagesRequest, receive: Receive) -> Answer:
        model = self.models.require(body.model)
        conversation = body.conversation()
        spec = body.spec()
        completion = await self.complete(conversation, model, receive, spec)
        if self.log_prompts:
            logger.debug("prompt %r -> reply %r", conversation.to_dicts(),
                         completion.tool_calls or completion.text)
        identifier = anthropic_format.message_id()
        if body.stream:
            events = anthropic_format.message_events(conversation, completion, id=identifier,
                                                     spec=spec)
            return Answer(EVENT_STREAM, events, identifier)
        document = anthropic_format.message(conversation, completion, id=identifier, spec=spec)
        return Answer(JSON, encode(document), identifier)


class CountTokens(Endpoint[CountTokensRequest]):
    """``POST /v1/messages/count_tokens``: the estimate ``usage.input_tokens`` would show.
    Nothing goes upstream, so it takes no slot."""

    request = CountTokensRequest

    async def respond(self, body: CountTokensRequest, receive: Receive) -> Answer:
        self.models.require(body.model)
        tokens = anthropic_format.input_tokens(body.conversation(), body.spec())
        return Answer(JSON, encode({"input_tokens": tokens}), anthropic_format.message_id())


def routes(
    upstream: Upstream, models: ModelIds, *, log_prompts: bool,
    answer_error: ErrorAnswers,
) -> list[Route]:
    """The two routes, over the app's one client, concurrency limit, model rule and error
    mapping; each is served by a lane of the front (``front.py``), listed in FastAPI's
    router too (for the 405s), and documented as ``DOCUMENTED`` says."""
    return [
        Route(path, kind(upstream, models, log_prompts=log_prompts,
                         answer_error=answer_error), methods=["POST"], include_in_schema=False)
        for path, kind in ((PATH, Messages), (COUNT_TOKENS_PATH, CountTokens))
    ]


def _error(description: str) -> dict[str, Any]:
    return {"model": AnthropicError, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Bad input (invalid_request_error): the message names the parameter, "
                "e.g. tools[0].input_schema, max_tokens, messages[0].content[1]."),
    401: _error("No API key, or a wrong one, in x-api-key or Authorization: Bearer "
                "(authentication_error; only when the server has keys)."),
    404: _error("No such model (not_found_error)."),
    413: _error("The body is larger than the server's cap (request_too_large)."),
    429: _error("The site's rate limit (Retry-After passed on) or the server's concurrency "
                "limit (Retry-After set) (rate_limit_error)."),
}
COMPLETION_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    499: _error("The client closed the request before the answer (never received)."),
    502: _error("The site failed: refused, malformed, blocked, unreachable; or the model's "
                "reply did not fit the tools or format asked for, even after one "
                "correction (api_error)."),
    503: _error("The site is unavailable (overloaded_error)."),
    504: _error("The deadline passed (api_error)."),
}


# What the document says of the two routes; ``Messages`` and ``CountTokens`` serve them.
async def create_message(body: MessagesRequest) -> AnthropicMessage:
    """Anthropic's Messages API. max_tokens is required and ignored, as are the sampling
    parameters. Custom tools are called (tool_use blocks, stop_reason tool_use) and
    output_config.format is answered as one JSON text block, both emulated by
    instructions to the model and checked (one repair, else a 502); server tools and
    image blocks are refused. Usage counts are an estimate."""
    raise NotImplementedError("documentation only: Messages serves this route")


async def count_tokens(body: CountTokensRequest) -> TokenCount:
    """The estimate of the input tokens that POST /v1/messages would count."""
    raise NotImplementedError("documentation only: CountTokens serves this route")


DOCUMENTED = (
    APIRoute(
        PATH, create_message, methods=["POST"], response_model=AnthropicMessage,
        responses={**COMPLETION_ERRORS, 200: {
            "description": "The message; with stream: true, Server-Sent Events: "
            "message_start, content_block_start, ping, content_block_delta, "
            "content_block_stop, message_delta, message_stop.",
            "content": {"text/event-stream": {"schema": {
                "type": "object", "required": ["data"],
                "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
            }}},
        }},
        summary="Create a message (Anthropic's Messages API)",
    ),
    APIRoute(COUNT_TOKENS_PATH, count_tokens, methods=["POST"], response_model=TokenCount,
             responses=ERRORS, summary="Count a message's input tokens (an estimate)"),
)
