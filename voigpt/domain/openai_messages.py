"""OpenAI-style message dicts, reduced to the ``role`` and ``content`` voigpt.com reads.

The site's request body is ``{"messages": [{"role", "content"}]}`` and its view reads
nothing else, so an OpenAI-shaped message (the openai SDK, g4f 8, LangChain) is checked
here and reduced to those two, before any I/O. The rules:

- ``"role": "developer"`` is a system message (``Role.SYSTEM``; ``"system"`` is sent).
- ``"name"`` (OpenAI: "an optional name for the participant") is accepted if it is a
  string, and not sent on: the site has no field for it and would ignore it.
- ``"content"`` may be a list of parts. Only ``{"type": "text", "text": str}`` parts are
  accepted (other keys of a text part are ignored), and their texts are concatenated
  with nothing between them: that is what g4f 8 does
  (``g4f.providers.helper.to_string``: ``"".join(...)``) for every provider it feeds,
  and the OpenAI API documents no separator, since the parts are pieces of one message
  whose whitespace is the caller's (the openai SDK sends them as given). Any other part
  (``image_url``, ``input_audio``, ``file``, ``refusal``...), a part that is not a dict
  or has no string ``text``, and an empty list are refused, naming the part
  (``messages[2].content[1]: ...``).
- Tool use is written out as text (``voigpt.domain.tools.history``): an assistant's
  ``tool_calls`` (or legacy ``function_call``) become the JSON the model is asked to call
  tools with, after its text if it has any (``"content": null`` is then allowed); a
  ``tool`` (or legacy ``function``) message becomes a user message naming the call it
  answers. An assistant message read back from an answer may carry ``refusal``,
  ``annotations``, ``audio`` and ``reasoning_content`` (g4f 8 adds it): accepted, not
  sent. Any other key is refused, as before.
"""

from __future__ import annotations

from collections.abc import Mapping

from voigpt.domain.errors import InvalidMessages

_KEYS = ("role", "content", "name")
# What an assistant message read back from an answer may carry besides.
_ASSISTANT_KEYS = ("tool_calls", "function_call", "refusal", "annotations", "audio",
                   "reasoning_content")
_RESULT_KEYS = {"tool": ("role", "content", "tool_call_id", "name"),
                "function": ("role", "content", "name")}


def role_and_content(item: Mapping[object, object], where: str) -> tuple[object, object]:
    """The ``(role, content)`` to build a ``Message`` from, or ``InvalidMessages`` naming
    ``where`` (and the part) if ``item`` cannot be sent to voigpt.com as it is."""
    role = item.get("role")
    if isinstance(role, str) and role in _RESULT_KEYS:
        return "user", _result(item, role, where)
    missing = [key for key in ("role", "content") if key not in item]
    if missing:
        raise InvalidMessages(f"{where} is missing {' and '.join(repr(k) for k in missing)}")
    allowed = _KEYS + _ASSISTANT_KEYS if role == "assistant" else _KEYS
    extra = sorted(str(key) for key in item if key not in allowed)
    if extra:
        tools = [key for key in extra if key in _ASSISTANT_KEYS[:2]]
        if tools:
            raise InvalidMessages(f"{where} has {' and '.join(map(repr, tools))}, which only "
                                  "an assistant message may have")
        raise InvalidMessages(
            f"{where} has unknown keys {extra}; only 'role', 'content' and 'name' are allowed"
        )
    if "name" in item and not isinstance(item["name"], str):
        raise InvalidMessages(f"{where}: 'name' must be a string, got {_type(item['name'])}")
    calls = _calls(item, where) if role == "assistant" else None
    content = item["content"]
    if content is None:
        if calls is not None:
            return role, calls
        raise InvalidMessages(f"{where}: 'content' must be a string, got NoneType: no text to send")
    if isinstance(content, (list, tuple)):
        content = _joined_text(content, f"{where}.content")
    if calls is not None and isinstance(content, str):
        return role, f"{content}\n{calls}" if content else calls
    return role, content


def _result(item: Mapping[object, object], role: str, where: str) -> str:
    """A ``tool`` (or ``function``) message as the text of a tool's result."""
    extra = sorted(str(key) for key in item if key not in _RESULT_KEYS[role])
    if extra:
        raise InvalidMessages(f"{where} has unknown keys {extra} for a {role!r} message")
    call_id = item.get("tool_call_id") if role == "tool" else None
    name = item.get("name")
    if role == "tool" and not isinstance(call_id, str):
        raise InvalidMessages(f"{where}: a 'tool' message needs 'tool_call_id', a string")
    if name is not None and not isinstance(name, str):
        raise InvalidMessages(f"{where}: 'name' must be a string, got {_type(name)}")
    content = item.get("content")
    if isinstance(content, (list, tuple)):
        content = _joined_text(content, f"{where}.content")
    if not isinstance(content, str):
        raise InvalidMessages(f"{where}: 'content' must be a string, got {_type(content)}")
    from voigpt.domain.tools.history import result_text  # tool history only

    return result_text(call_id if isinstance(call_id, str) else None, content, name=name)


def _calls(item: Mapping[object, object], where: str) -> str | None:
    """An assistant's ``tool_calls`` (or ``function_call``) as text, None if it has none."""
    calls, legacy = item.get("tool_calls"), item.get("function_call")
    if legacy is not None:
        calls, where = [{"function": legacy}], f"{where}.function_call"
    if calls is None or (isinstance(calls, list) and not calls):
        return None
    if not isinstance(calls, list):
        raise InvalidMessages(f"{where}.tool_calls must be a list, got {_type(calls)}")
    written = []
    for index, call in enumerate(calls):
        here = where if legacy is not None else f"{where}.tool_calls[{index}]"
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise InvalidMessages(f"{here} must be like {{'id': ..., 'type': 'function', "
                                  "'function': {'name': ..., 'arguments': ...}}")
        call_id = call.get("id") if isinstance(call, Mapping) else None
        written.append((call_id if isinstance(call_id, str) else None, function["name"],
                        function.get("arguments", "{}")))
    from voigpt.domain.tools.history import calls_text  # tool history only

    return calls_text(written)


def _joined_text(parts: list[object] | tuple[object, ...], where: str) -> str:
    if not parts:
        raise InvalidMessages(f"{where} is an empty list of parts: no text to send")
    texts = []
    for index, part in enumerate(parts):
        here = f"{where}[{index}]"
        if not isinstance(part, Mapping):
            raise InvalidMessages(f"{here} must be a dict like {{'type': 'text', 'text': ...}}, "
                                  f"got {_type(part)}")
        kind = part.get("type")
        if kind != "text":
            shown = "no 'type'" if "type" not in part else f"type {_short(kind)}"
            raise InvalidMessages(f"{here}: a part with {shown} is not supported; "
                                  "voigpt.com takes text parts only")
        text = part.get("text")
        if not isinstance(text, str):
            raise InvalidMessages(f"{here}: 'text' must be a string, got {_type(text)}")
        texts.append(text)
    return "".join(texts)


def _type(value: object) -> str:
    return type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
