"""What a Responses request asks of its answer besides text (``tools``, ``tool_choice``,
``parallel_tool_calls``, ``text.format``), and the answer to such a request: the
``response`` object, its stored JSON and its events (shapes in
``entrypoints.responses_tools``).

``responses.py`` comes here only when the request names one of them: the plain path keeps
its hand-written answer and pays nothing for this. A refusal is a 400 naming the
parameter (``tools[0]``, ``text.format.schema``...), before any I/O.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from voigpt.domain.errors import InvalidInput
from voigpt.domain.tools import OutputSpec
from voigpt.domain.tools.flow import as_sent
from voigpt.domain.values import Completion, Conversation
from voigpt.entrypoints import responses_tools as tools
from voigpt.entrypoints.server.errors import APIError
from voigpt.entrypoints.server.responses_protocol import ResponseRequest


class Asked(NamedTuple):
    """The spec (None: a text answer is all that is asked) and what the response echoes."""

    spec: OutputSpec | None
    echo: dict[str, Any]


class Answered(NamedTuple):
    """The response in progress and completed, and the answer's text for the context."""

    started: dict[str, Any]
    done: dict[str, Any]
    text: str


def asks(body: ResponseRequest) -> bool:
    """Whether the request names tools, a tool choice or a text format."""
    return bool(body.tools) or body.tool_choice is not None or (
        body.text is not None and body.text.format is not None)


def read(body: ResponseRequest) -> Asked:
    text_format = body.text.format if body.text is not None else None
    try:
        spec = tools.spec_of(body.tools, body.tool_choice, text_format,
                             body.parallel_tool_calls)
    except InvalidInput as exc:
        raise APIError(400, str(exc), param=tools.param_of(exc),
                       code="invalid_value") from None
    return Asked(spec, {"tools": body.tools, "tool_choice": body.tool_choice,
                        "format": text_format})


def answer(asked: Asked, options: dict[str, Any], completion: Completion,
           conversation: Conversation, *, id: str, created_at: int) -> Answered:
    fields: dict[str, Any] = {"id": id, "created_at": created_at, "model": completion.model}
    started = tools.response(options, asked.echo, **fields)
    conversation = as_sent(conversation, asked.spec)  # usage counts the instructions too
    done = tools.response(options, asked.echo, **fields, conversation=conversation,
                          completion=completion, items=tools.output_items(completion))
    return Answered(started, done, tools.reply_text(completion))


def events(answered: Answered) -> str:
    return tools.events(answered.started, answered.done)
