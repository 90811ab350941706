"""OpenAI-style messages (the openai SDK, g4f 8, LangChain): what is accepted is reduced to
the ``role`` and ``content`` that voigpt.com reads; what cannot be sent is refused with an
``InvalidMessages`` naming the item (and the part), before any I/O."""

from __future__ import annotations

from typing import Any

import pytest

from voigpt.domain import Conversation, Message, Role
from voigpt.domain.errors import InvalidMessages
from voigpt.testing import wired_with_fakes


def text(value: str) -> dict[str, str]:
    return {"type": "text", "text": value}


ACCEPTED: dict[str, tuple[list[Any], list[dict[str, str]]]] = {
    "developer-is-system": (
        [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    ),
    "name-is-not-sent": (
        [{"role": "user", "content": "Hi", "name": "alice"},
         {"role": "assistant", "content": "Hello", "name": "bot"}],
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
    ),
    "one-text-part": (
        [{"role": "user", "content": [text("Hello")]}],
        [{"role": "user", "content": "Hello"}],
    ),
    "text-parts-joined-with-nothing-as-g4f-does": (
        [{"role": "user", "content": [text("Hello"), text("world")]}],
        [{"role": "user", "content": "Helloworld"}],
    ),
    "the-caller-s-whitespace-is-kept": (
        [{"role": "user", "content": [text("Hello,\n"), text(" world")]}],
        [{"role": "user", "content": "Hello,\n world"}],
    ),
    "empty-text-part": (
        [{"role": "user", "content": [text(""), text("x")]}],
        [{"role": "user", "content": "x"}],
    ),
    "other-keys-of-a-text-part-are-ignored": (
        [{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {}}]}],
        [{"role": "user", "content": "Hi"}],
    ),
    "developer-with-parts-and-name": (
        [{"role": "developer", "content": [text("Be "), text("brief.")], "name": "ops"},
         {"role": "user", "content": "Hi"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    ),
    "parts-on-every-role": (
        [{"role": "system", "content": [text("s")]}, {"role": "user", "content": [text("u")]},
         {"role": "assistant", "content": [text("a")]}],
        [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
         {"role": "assistant", "content": "a"}],
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_an_accepted_shape_becomes_exactly_what_is_sent(case: str) -> None:
    messages, sent = ACCEPTED[case]
    assert Conversation.from_dicts(messages).to_dicts() == sent


IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}

REFUSED: dict[str, tuple[list[Any], str]] = {
    "image-part": (
        [{"role": "user", "content": "Hi"}, {"role": "user", "content": "x"},
         {"role": "user", "content": [text("What is this?"), IMAGE]}],
        r"messages\[2\]\.content\[1\]: a part with type 'image_url' is not supported",
    ),
    "audio-part": (
        [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
        r"messages\[0\]\.content\[0\]: a part with type 'input_audio'",
    ),
    "file-part": (
        [{"role": "user", "content": [text("a"), {"type": "file", "file": {}}]}],
        r"messages\[0\]\.content\[1\]: a part with type 'file'",
    ),
    "refusal-part": (
        [{"role": "user", "content": "Hi"},
         {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]}],
        r"messages\[1\]\.content\[0\]: a part with type 'refusal'",
    ),
    "part-without-type": (
        [{"role": "user", "content": [{"text": "Hi"}]}],
        r"messages\[0\]\.content\[0\]: a part with no 'type'",
    ),
    "part-without-text": (
        [{"role": "user", "content": [{"type": "text"}]}],
        r"messages\[0\]\.content\[0\]: 'text' must be a string, got NoneType",
    ),
    "part-with-non-string-text": (
        [{"role": "user", "content": [text("a"), {"type": "text", "text": 3}]}],
        r"messages\[0\]\.content\[1\]: 'text' must be a string, got int",
    ),
    "part-not-a-dict": (
        [{"role": "user", "content": [text("a"), "b"]}],
        r"messages\[0\]\.content\[1\] must be a dict .* got str",
    ),
    "empty-parts-list": (
        [{"role": "user", "content": "Hi"}, {"role": "user", "content": []}],
        r"messages\[1\]\.content is an empty list of parts",
    ),
    "lone-surrogate-in-a-part": (
        [{"role": "user", "content": [text("ab"), text("c\ud800")]}],
        r"messages\[0\]: 'content' has a character that is not valid UTF-8 at index 3",
    ),
    "tool-role": (
        [{"role": "user", "content": "Hi"},
         {"role": "tool", "content": "42"}],
        r"messages\[1\]: a 'tool' message needs 'tool_call_id', a string",
    ),
    "function-role": (
        [{"role": "function", "content": 42, "name": "f"}],
        r"messages\[0\]: 'content' must be a string, got int",
    ),
    "tool-calls": (
        [{"role": "user", "content": "Hi"},
         {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1"}]}],
        r"messages\[1\]\.tool_calls\[0\] must be like \{'id': \.\.\., 'type': 'function'",
    ),
    "function-call": (
        [{"role": "user", "content": "", "function_call": {"name": "f"}}],
        r"messages\[0\] has 'function_call', which only an assistant message may have",
    ),
    "assistant-content-null": (
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None}],
        r"messages\[1\]: 'content' must be a string, got NoneType: no text to send",
    ),
    "name-not-a-string": (
        [{"role": "user", "content": "Hi", "name": 7}],
        r"messages\[0\]: 'name' must be a string, got int",
    ),
    "other-unknown-key": (
        [{"role": "user", "content": "Hi", "name": "a", "audio": {"id": "x"}}],
        r"messages\[0\] has unknown keys \['audio'\]; only 'role', 'content' and 'name'",
    ),
    "unknown-role": (
        [{"role": "critic", "content": "Hi"}],
        r"messages\[0\]: 'role' must be one of 'system', 'user', 'assistant', 'developer'",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_shape_names_the_item(case: str) -> None:
    messages, expected = REFUSED[case]
    with pytest.raises(InvalidMessages, match=expected):
        Conversation.from_dicts(messages)


def test_developer_is_a_system_message_also_when_built_directly() -> None:
    assert Message("developer", "x").role is Role.SYSTEM
    assert Message.from_dict({"role": "developer", "content": "x"}).to_dict() == {
        "role": "system", "content": "x"
    }
    assert Conversation.question("Hi").then("developer", "x").messages[-1].role is Role.SYSTEM


OPENAI_SHAPED: list[dict[str, Any]] = [
    {"role": "developer", "content": [text("Be "), text("brief.")], "name": "ops"},
    {"role": "user", "content": [text("Hello")], "name": "alice"},
    {"role": "assistant", "content": "Hi!", "name": "bot"},
    {"role": "user", "content": "Again"},
]


def test_a_client_sends_only_role_and_content() -> None:
    with wired_with_fakes(replies=["Sure."]) as fakes:
        completion = fakes.client().complete(OPENAI_SHAPED)
    assert completion.text == "Sure."
    assert fakes.transport.sent[0].conversation.to_dicts() == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": "Again"},
    ]


@pytest.mark.parametrize("case", ["image-part", "tool-calls", "tool-role", "empty-parts-list"])
def test_a_client_given_a_refused_shape_sends_nothing(case: str) -> None:
    messages, expected = REFUSED[case]
    refused = pytest.raises(InvalidMessages, match=expected)
    with wired_with_fakes(replies=["never"]) as fakes, refused:
        fakes.client().complete(messages)
    assert fakes.transport.sent == []
    assert fakes.token_source.token_fetches == 0


def test_tool_calls_and_results_in_the_history_are_sent_as_text() -> None:
    """An assistant's calls are written as the JSON the model is asked to call with, and a
    tool's result as a user message naming the call (``domain.tools.history``)."""
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "refusal": None, "annotations": [],
         "reasoning_content": "", "tool_calls": [{"id": "call_1", "type": "function", "function": {
             "name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": [text("sunny")]},
        {"role": "assistant", "content": "Checking.", "function_call": {
            "name": "get_time", "arguments": "{}"}},
        {"role": "function", "name": "get_time", "content": "noon"},
    ]
    assert Conversation.from_dicts(history).to_dicts() == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": '{"tool_calls":[{"id":"call_1","name":"get_weather",'
                                         '"arguments":{"city":"Paris"}}]}'},
        {"role": "user", "content": "Result of tool call call_1:\nsunny"},
        {"role": "assistant", "content": 'Checking.\n{"tool_calls":[{"name":"get_time",'
                                         '"arguments":{}}]}'},
        {"role": "user", "content": "Result of tool call (get_time):\nnoon"},
    ]
