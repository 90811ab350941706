"""Legacy ``POST /v1/completions``: a prompt in, OpenAI's ``text_completion`` out, on the
same use case, gate, slots, disconnect watch and error mapping as the chat route
(``endpoint.py``), and the same model-id rule (``model_ids.py``).

The site does not stream, so a streamed answer is sent whole once the reply exists: the
text in one chunk, a chunk with ``finish_reason: "stop"``, the usage chunk when asked for
(``stream_options.include_usage``), then ``data: [DONE]``.
"""

from __future__ import annotations

import logging

from fastapi.routing import APIRoute

from voigpt.entrypoints.openai_format import completion_id, text_completion, text_completion_chunks
from voigpt.entrypoints.server import openapi
from voigpt.entrypoints.server.endpoint import JSON, Answer, Endpoint, encode
from voigpt.entrypoints.server.gate import Receive
from voigpt.entrypoints.server.legacy_protocol import CompletionRequest, TextCompletion

logger = logging.getLogger("voigpt.server")
PATH = "/v1/completions"


class LegacyCompletions(Endpoint[CompletionRequest]):
    """The endpoint."""

    request = CompletionRequest

    async def respond(self, body: CompletionRequest, receive: Receive) -> Answer:
        model = self.models.require(body.model)
        conversation = body.prompt
        completion = await self.complete(conversation, model, receive)
        if self.log_prompts:
            logger.debug("prompt %r -> reply %r", conversation.to_dicts(), completion.text)
        identifier = completion_id("cmpl-")
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = text_completion_chunks(
                conversation, completion, id=identifier, include_usage=include_usage
            )
            return Answer.events(chunks, identifier)
        return Answer(JSON, encode(text_completion(conversation, completion, id=identifier)),
                      identifier)


# What the document says of POST /v1/completions; ``LegacyCompletions`` serves it.
async def create_completion(body: CompletionRequest) -> TextCompletion:
    """OpenAI's legacy completion: the prompt is sent as one user message. Sampling
    parameters are accepted and ignored; ``n`` other than 1, ``echo``, ``logprobs`` and
    ``suffix`` are refused. Usage counts are an estimate."""
    raise NotImplementedError("documentation only: LegacyCompletions serves this route")


DOCUMENTED = APIRoute(
    PATH, create_completion, methods=["POST"], response_model=TextCompletion,
    responses={**openapi.COMPLETION_RESPONSES, 200: {
        **openapi.COMPLETION_RESPONSES[200],
        "description": "The completion; with stream: true, Server-Sent Events of "
        "text_completion objects ending with data: [DONE].",
    }},
    summary="Create a completion (legacy)",
)
