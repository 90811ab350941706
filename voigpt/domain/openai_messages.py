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
- Tool use is refused: the roles ``tool`` and ``function``, and the keys ``tool_calls``
  and ``function_call`` (whatever their value), since voigpt.com does not support tool
  calls and dropping them would change what the conversation means.
- ``"content": null`` (an assistant turn that only called tools) is refused: there is no
  text to send. Any other key is refused, as before.
"""

from __future__ import annotations

from collections.abc import Mapping

from voigpt.domain.errors import InvalidMessages

_KEYS = ("role", "content", "name")
_TOOL_ROLES = ("tool", "function")
_TOOL_KEYS = ("tool_calls", "function_call")
_NO_TOOLS = "voigpt.com does not support tool calls"


def role_and_content(item: Mapping[object, object], where: str) -> tuple[object, object]:
    """The ``(role, content)`` to build a ``Message`` from, or ``InvalidMessages`` naming
    ``where`` (and the part) if ``item`` cannot be sent to voigpt.com as it is."""
    role = item.get("role")
    if isinstance(role, str) and role in _TOOL_ROLES:
        raise InvalidMessages(f"{where}: role {role!r} is a tool result; {_NO_TOOLS}")
    tools = [key for key in _TOOL_KEYS if key in item]
    if tools:
        raise InvalidMessages(f"{where} has {' and '.join(map(repr, tools))}; {_NO_TOOLS}")
    missing = [key for key in ("role", "content") if key not in item]
    if missing:
        raise InvalidMessages(f"{where} is missing {' and '.join(repr(k) for k in missing)}")
    extra = sorted(str(key) for key in item if key not in _KEYS)
    if extra:
        raise InvalidMessages(
            f"{where} has unknown keys {extra}; only 'role', 'content' and 'name' are allowed"
        )
    if "name" in item and not isinstance(item["name"], str):
        raise InvalidMessages(f"{where}: 'name' must be a string, got {_type(item['name'])}")
    content = item["content"]
    if content is None:
        raise InvalidMessages(f"{where}: 'content' must be a string, got NoneType: no text to send")
    if isinstance(content, (list, tuple)):
        return role, _joined_text(content, f"{where}.content")
    return role, content


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
