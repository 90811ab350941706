"""Tools and structured output on OpenAI's Responses API, as plain dicts: the
``OutputSpec`` a request asks for (flat function ``tools``, ``tool_choice``,
``parallel_tool_calls``, ``text.format``), and the answer to it: ``function_call`` output
items (or the message whose text is the structured answer's JSON), the ``response``
object that echoes what was asked, and its events when streamed
(``response.function_call_arguments.*`` for each call).

Only a request that asks for tools or a format comes here: the plain text answer keeps
``responses_format``'s hand-written path. Earlier calls and their outputs in ``input``
are read in ``server.responses_protocol`` and written with ``domain.tools.history``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from voigpt.domain.errors import InvalidInput
from voigpt.domain.tools.history import calls_text
from voigpt.domain.tools.openai import output_spec, read_format
from voigpt.domain.tools.values import OutputSpec, ResponseFormat
from voigpt.domain.values import Completion, Conversation
from voigpt.entrypoints import responses_format as shapes

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_WHERE = re.compile(r"^(tools\[\d+\](?:\.\w+)*|tool_choice|parallel_tool_calls|"
                    r"text\.format(?:\.\w+)*)")
TEXT = {"type": "text"}


def spec_of(tools: object, tool_choice: object, text_format: object,
            parallel_tool_calls: object) -> OutputSpec | None:
    """What the request asks of the answer; None when nothing (the plain text path).
    ``InvalidInput`` names the parameter: ``tools[1].parameters``, ``text.format.schema``."""
    return output_spec(tools, tool_choice, read_text_format(text_format), parallel_tool_calls)


def param_of(problem: InvalidInput) -> str | None:
    """The parameter a refusal of ``spec_of`` names, for the error's ``param``."""
    match = _WHERE.match(str(problem))
    return match.group(1) if match else None


def read_text_format(value: object) -> ResponseFormat | None:
    """``text.format``: ``{"type": "text"}``, ``{"type": "json_object"}`` or the flat
    ``{"type": "json_schema", "name", "schema", "description", "strict"}``."""
    return read_format(value, where="text.format", flat=True)


def reply_text(completion: Completion) -> str:
    """The answer as the conversation keeps it: the calls as ``history`` writes them."""
    if completion.tool_calls:
        return calls_text((call.id, call.name, call.arguments)
                          for call in completion.tool_calls)
    return completion.text


def output_items(completion: Completion) -> list[dict[str, Any]]:
    """One ``function_call`` item per call; else the message (a structured answer's JSON)."""
    if not completion.tool_calls:
        return [shapes.output_item(shapes.item_id(), completion.text)]
    return [{"id": f"fc_{os.urandom(16).hex()}", "type": "function_call",
             "status": "completed", "arguments": call.arguments, "call_id": call.id,
             "name": call.name} for call in completion.tool_calls]


def response(options: Mapping[str, Any], asked: Mapping[str, Any], *, id: str,
             created_at: int, model: str, conversation: Conversation | None = None,
             completion: Completion | None = None,
             items: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """``responses_format.response`` with ``items`` as its output (in progress without
    a ``completion``), echoing ``asked``: the request's ``tools``, ``tool_choice`` and
    ``text.format``."""
    document = shapes.response(options, id=id, created_at=created_at, model=model)
    document["tools"] = list(asked.get("tools") or ())
    document["tool_choice"] = asked.get("tool_choice") or "auto"
    document["text"] = {"format": asked.get("format") or TEXT, "verbosity": "medium"}
    if completion is not None and conversation is not None:
        document.update(status="completed", output=list(items),
                        usage=shapes.response_usage(conversation, reply_text(completion)))
    return document


def events(started: dict[str, Any], done: dict[str, Any]) -> str:
    """The events of a streamed answer, OpenAI's grammar: each output item added, its
    arguments (a call's) or its text (a message's) in one delta and done, the item done;
    between ``response.created``/``in_progress`` (``started``) and ``response.completed``
    (``done``), each numbered by ``sequence_number``."""
    frames: list[dict[str, Any]] = [{"type": "response.created", "response": started},
                                    {"type": "response.in_progress", "response": started}]
    for index, item in enumerate(done["output"]):
        frames.extend(_call_frames(index, item) if item["type"] == "function_call"
                      else shapes.message_frames(index, item))
    frames.append({"type": "response.completed", "response": done})
    return "".join(
        f"event: {frame['type']}\ndata: {_encode({**frame, 'sequence_number': n})}\n\n"
        for n, frame in enumerate(frames)
    )


def _call_frames(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    place = {"item_id": item["id"], "output_index": index}
    arguments = item["arguments"]
    return [
        {"type": "response.output_item.added", "output_index": index,
         "item": {**item, "arguments": "", "status": "in_progress"}},
        {"type": "response.function_call_arguments.delta", **place, "delta": arguments},
        {"type": "response.function_call_arguments.done", **place, "arguments": arguments,
         "name": item["name"]},
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]

