"""``POST /v1/chat/completions``: parse, call the use case, format (``endpoint.py`` does
the rest, as for every completion endpoint).

It is the server's one hot route, so it is served without FastAPI's per-request machinery
(``front.py`` sends it here straight from the gate); FastAPI still documents it
(``openapi.py``). The request is checked by ``ChatCompletionRequest``; the model id by
the server's one rule (``model_ids.py``), and every answer names the model that served it.

``tools``, ``tool_choice`` and ``response_format`` become the ``OutputSpec`` the use case
follows (None, checked at once, when nothing is asked: the plain path is as it was); a
bad one is a 400 naming where it is, before any I/O.

The site does not stream, so a streamed answer is sent whole once the reply exists: the
role chunk, the content in one chunk (or each tool call's id and name, then its
arguments), the ``finish_reason`` chunk, the usage chunk when asked for, then
``data: [DONE]``. Every error before that gets its real status. A client that goes away
cancels its completion, which gives its slot back.
"""

from __future__ import annotations

import logging

from voigpt.domain.tools.flow import as_sent
from voigpt.domain.values import Conversation
from voigpt.entrypoints.openai_format import chat_completion, chat_completion_chunks, completion_id
from voigpt.entrypoints.server.endpoint import JSON, Answer, Endpoint, encode
from voigpt.entrypoints.server.gate import Receive
from voigpt.entrypoints.server.protocol import ChatCompletionRequest

logger = logging.getLogger("voigpt.server")


class Completions(Endpoint[ChatCompletionRequest]):
    """The endpoint."""

    request = ChatCompletionRequest

    async def respond(self, body: ChatCompletionRequest, receive: Receive) -> Answer:
        model = self.models.require(body.model)
        conversation: Conversation = body.messages
        spec = body.output_spec()
        completion = await self.complete(conversation, model, receive, spec)
        if self.log_prompts:
            logger.debug("prompt %r -> reply %r", conversation.to_dicts(), completion.text)
        identifier = completion_id()
        conversation = as_sent(conversation, spec)  # usage counts the instructions too
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            chunks = chat_completion_chunks(
                conversation, completion, id=identifier, include_usage=include_usage
            )
            return Answer.events(chunks, identifier)
        document = chat_completion(conversation, completion, id=identifier)
        return Answer(JSON, encode(document), identifier)
