"""What ``VoiGpt`` takes of tools and formats from g4f, and what it gives back for them.

g4f 8 hands a provider that declares ``supports_native_tools`` the caller's ``tools``,
``tool_choice`` and ``parallel_tool_calls`` as keywords (``g4f.tools.run_tools``), and
reads a provider's tool calls from a ``g4f.providers.response.ToolCalls`` chunk (OpenAI's
``[{"id", "type": "function", "function": {"name", "arguments"}}]``) followed by
``FinishReason("tool_calls")``: its clients make them ``message.tool_calls`` (or a
delta's) and ``finish_reason``. ``response_format`` is read too, but g4f's clients keep it
for themselves; it reaches the provider from ``g4f.ChatCompletion.create`` and direct
calls. A structured answer is its JSON text, as any answer is text.

g4f is imported only when there are calls to give back, and only if it is installed; its
``ToolCalls`` exists from g4f 8 on. Without it (no g4f, or g4f 0.1.9), and from
``create_async``, which returns a string, the calls are given as the JSON text of that
OpenAI-shaped list.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Mapping
from typing import Any

from voigpt.domain.call import PLAIN, Asked
from voigpt.domain.tools.openai import output_spec
from voigpt.domain.values import Completion

# What g4f's own prompt emulation (``ToolSupportProvider``, used when a caller forces
# ``tool_emulation``) passes a provider to say "a JSON plan may come": not a format the
# caller asked for, and not one OpenAI has, so it asks nothing of voigpt.
_G4F_EMULATION_HINT = {"type": "json"}


def asked_of(kwargs: Mapping[str, Any]) -> Asked:
    """What the keywords ask for besides text, checked now (``InvalidInput`` naming the
    parameter, before any I/O); ``PLAIN`` when they ask for nothing."""
    tools, choice = kwargs.get("tools"), kwargs.get("tool_choice")
    fmt, parallel = kwargs.get("response_format"), kwargs.get("parallel_tool_calls")
    if tools is None and choice is None and fmt is None and parallel is None:
        return PLAIN
    if fmt == _G4F_EMULATION_HINT:
        fmt = None
    spec = output_spec(tools, choice, fmt, parallel)
    if spec is None:
        return PLAIN
    # The checked values: the use case reads them as they are, without checking again.
    return Asked(spec.tools, spec.choice, spec.format, spec.parallel)


def chunks_of(completion: Completion) -> list[Any]:
    """What a g4f provider yields for the answer: its text, or g4f's ``ToolCalls`` and
    ``FinishReason("tool_calls")`` (the calls' JSON text without g4f 8)."""
    if not completion.tool_calls:
        return [completion.text]
    response = _g4f_responses()
    if response is None:
        return [text_of(completion)]
    return [response.ToolCalls(openai_calls(completion)), response.FinishReason("tool_calls")]


def text_of(completion: Completion) -> str:
    """The answer as a string: its text, or the JSON text of its calls."""
    if not completion.tool_calls:
        return completion.text
    return json.dumps(openai_calls(completion), ensure_ascii=False)


def openai_calls(completion: Completion) -> list[dict[str, Any]]:
    return [
        {"id": call.id, "type": "function",
         "function": {"name": call.name, "arguments": call.arguments}}
        for call in completion.tool_calls
    ]


@functools.cache
def _g4f_responses() -> Any:
    """``g4f.providers.response`` if g4f 8 is installed (already loaded when g4f drives
    ``VoiGpt``), else None."""
    try:
        module = importlib.import_module("g4f.providers.response")
    except ImportError:
        return None
    return module if hasattr(module, "ToolCalls") else None
