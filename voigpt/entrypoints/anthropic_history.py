"""Anthropic messages holding ``tool_use`` and ``tool_result`` blocks, as the text messages
voigpt.com reads, written as every dialect writes them (``voigpt.domain.tools.history``):
an assistant's text and calls become one message (its text, then the calls); each of a
user's results a user message of its own, as OpenAI's ``tool`` messages are, the text
blocks around them kept in order. A result names the tool whose call it answers when an
earlier ``tool_use`` block made that call. Every refusal names the block
(``messages[2].content[1]: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voigpt.domain.errors import InvalidMessages
from voigpt.domain.tools.history import calls_text, result_text
from voigpt.domain.values import Conversation, Message

TOOL_BLOCKS = ("tool_use", "tool_result")


def has_tool_blocks(content: list[Any]) -> bool:
    return any(isinstance(block, dict) and block.get("type") in TOOL_BLOCKS
               for block in content)


def conversation(messages: Sequence[Any]) -> Conversation:
    """Messages some of which hold tool blocks: an assistant's text and ``tool_use``
    blocks become one message (its text, then the calls); each of a user's
    ``tool_result`` blocks a user message of its own (as OpenAI's ``tool`` messages are),
    its text blocks around them kept in order. Other messages are read as before."""
    names: dict[str, str] = {}
    written: list[Message] = []
    for index, item in enumerate(messages):
        where = f"messages[{index}]"
        content = item.get("content") if isinstance(item, Mapping) else None
        if not isinstance(content, list) or not has_tool_blocks(content):
            written.append(Message.from_dict(item, where=where))
            continue
        extra = sorted(str(key) for key in item if key not in ("role", "content"))
        if extra:
            raise InvalidMessages(f"{where} has unknown keys {extra}")
        if item.get("role") not in ("user", "assistant"):
            raise InvalidMessages(f"{where}: 'role' must be 'user' or 'assistant'")
        texts = _texts(item["role"], content, where, names)
        written.extend(Message(item["role"], text) for text in texts)
    return Conversation(written)


def _texts(role: str, content: list[Any], where: str, names: dict[str, str]) -> list[str]:
    """The message's blocks as the texts of the messages that carry them."""
    pieces: list[str] = []  # the assistant's: joined into one message
    texts: list[str] = []  # the user's: one message each
    run: list[str] = []  # consecutive text blocks, joined with nothing between
    calls: list[tuple[str, str, object]] = []
    for number, block in enumerate(content):
        here = f"{where}.content[{number}]"
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text" and isinstance(block.get("text"), str):
            if calls:
                pieces.append(calls_text(calls))
                calls = []
            run.append(block["text"])
            continue
        if run:
            (pieces if role == "assistant" else texts).append("".join(run))
            run = []
        if kind == "tool_use" and role == "assistant":
            calls.append(_call(block, here, names))
        elif kind == "tool_result" and role == "user":
            texts.append(_result(block, here, names))
        elif kind in TOOL_BLOCKS:
            raise InvalidMessages(f"{here}: a {kind} block belongs in "
                                  f"{'an assistant' if kind == 'tool_use' else 'a user'} "
                                  "message")
        else:
            shown = f"type {str(kind)[:40]!r}" if kind is not None else "no 'type'"
            raise InvalidMessages(f"{here}: a block with {shown} is not supported; voigpt.com "
                                  "takes text, tool_use and tool_result blocks")
    if calls:
        pieces.append(calls_text(calls))
    if run:
        (pieces if role == "assistant" else texts).append("".join(run))
    return ["\n".join(pieces)] if role == "assistant" else texts


def _call(block: Mapping[str, Any], where: str, names: dict[str, str]) -> tuple[str, str, object]:
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input")
    if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(
            arguments, Mapping):
        raise InvalidMessages(f"{where}: a tool_use block needs 'id' and 'name' (strings) "
                              "and 'input' (an object)")
    names[call_id] = name
    return call_id, name, arguments


def _result(block: Mapping[str, Any], where: str, names: dict[str, str]) -> str:
    call_id, content = block.get("tool_use_id"), block.get("content", "")
    if not isinstance(call_id, str):
        raise InvalidMessages(f"{where}: a tool_result block needs 'tool_use_id', a string")
    if isinstance(content, list):
        for number, part in enumerate(content):
            if not (isinstance(part, Mapping) and part.get("type") == "text"
                    and isinstance(part.get("text"), str)):
                raise InvalidMessages(f"{where}.content[{number}]: only text blocks are "
                                      "supported in a tool result")
        content = "".join(part["text"] for part in content)
    if not isinstance(content, str):
        raise InvalidMessages(f"{where}.content must be a string or text blocks")
    is_error = block.get("is_error") is True
    return result_text(call_id, content, name=names.get(call_id), is_error=is_error)
