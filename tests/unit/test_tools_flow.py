"""Tools and formats through the use case and the clients, with fakes for the ports: what
the model is told, how one repair goes, what is refused before any I/O."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from pydantic import BaseModel

from tests.unit.test_completion_observer import RecordingObserver
from voigpt import InvalidModelReply
from voigpt.domain import AccessToken, CompleteChat
from voigpt.domain.call import Asked
from voigpt.domain.errors import InvalidConfig, InvalidInput
from voigpt.domain.retry import Deadline
from voigpt.domain.values import Conversation, Role
from voigpt.testing import FakeClock, FakeTokenSource, InMemoryTokenCache, wired_with_fakes

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
ASK = [{"role": "user", "content": "Weather in Paris?"}]
CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}'


def test_the_model_is_told_of_the_tools_in_one_system_message_at_the_end() -> None:
    with wired_with_fakes(replies=[CALL]) as fakes:
        completion = fakes.client().complete(ASK, tools=[WEATHER])
    assert [(call.name, call.args) for call in completion.tool_calls] == \
        [("get_weather", {"city": "Paris"})]
    assert completion.text == "" and completion.finish_reason == "tool_calls"
    assert completion.tool_calls[0].id.startswith("call_")
    sent = fakes.transport.sent[0].conversation.messages
    assert [m.role for m in sent] == [Role.USER, Role.SYSTEM]
    told = sent[-1].content
    assert "- get_weather: The weather in a city." in told
    assert json.dumps(WEATHER["function"]["parameters"], separators=(",", ":")) in told
    assert '{"tool_calls": [{"name": "<tool name>"' in told
    assert "If no tool is needed, answer the user directly instead." in told


def test_nothing_asked_is_the_plain_path() -> None:
    with wired_with_fakes(replies=['{"name": "get_weather", "arguments": {}}']) as fakes:
        completion = fakes.client().complete(ASK)
    assert completion.text == '{"name": "get_weather", "arguments": {}}'
    assert completion.tool_calls == () and completion.data is None
    assert fakes.transport.sent[0].conversation.to_dicts() == ASK


def test_tool_choice_none_tells_nothing_and_reads_text() -> None:
    with wired_with_fakes(replies=[CALL]) as fakes:
        completion = fakes.client().complete(ASK, tools=[WEATHER], tool_choice="none")
    assert completion.text == CALL and completion.tool_calls == ()
    assert fakes.transport.sent[0].conversation.to_dicts() == ASK


class Person(BaseModel):
    name: str
    age: int


def test_a_pydantic_model_as_the_format_gives_its_data() -> None:
    with wired_with_fakes(replies=['Here you go:\n```json\n{"name": "Bo", "age": 3}\n```']) \
            as fakes:
        completion = fakes.client().complete(ASK, response_format=Person)
    assert completion.data == {"name": "Bo", "age": 3}
    assert json.loads(completion.text) == {"name": "Bo", "age": 3}
    assert Person.model_validate_json(completion.text) == Person(name="Bo", age=3)
    assert '"required":["name","age"]' in fakes.transport.sent[0].conversation.messages[-1].content


class RecordingTransport:
    """The chat transport port, remembering each conversation and deadline it was given."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.sent = replies, []  # type: ignore[var-annotated]

    def send(self, conversation: Conversation, token: AccessToken, *,
             deadline: Deadline | None = None) -> str:
        self.sent.append((conversation, deadline))
        return self.replies.pop(0)


def use_case(replies: list[str]) -> tuple[CompleteChat, RecordingTransport, RecordingObserver]:
    transport, observer = RecordingTransport(replies), RecordingObserver()
    return CompleteChat(transport, FakeTokenSource(), InMemoryTokenCache(), FakeClock(),
                        observer=observer, new_id=lambda: "call_x"), transport, observer


def test_an_unusable_reply_is_repaired_once_under_the_same_deadline() -> None:
    bad = '{"name": "get_weather", "arguments": {"town": "Paris"}}'
    chat, transport, observer = use_case([bad, CALL])

    completion = chat(ASK, asked=Asked(tools=[WEATHER], tool_choice="required"))

    assert [(c.id, c.args) for c in completion.tool_calls] == [("call_x", {"city": "Paris"})]
    (first, deadline), (second, again) = transport.sent
    assert again is deadline
    assert second.messages[:-2] == first.messages
    assert second.messages[-2].role is Role.ASSISTANT and second.messages[-2].content == bad
    correction = second.messages[-1]
    assert correction.role is Role.USER
    assert correction.content.startswith('The arguments of your call to "get_weather" do not '
                                         "fit its schema: 'city' is a required property.")
    assert ("repair", "the arguments of the call to 'get_weather' do not fit its schema: "
                      "'city' is a required property") in observer.calls
    assert [kind for kind, _ in observer.calls].count("sent") == 2


def test_a_second_unusable_reply_is_invalid_model_reply() -> None:
    chat, transport, _ = use_case(["It is sunny.", "Still sunny."])
    with pytest.raises(InvalidModelReply, match="even after one correction: the model "
                       "answered in text where a tool call was required"):
        chat(ASK, asked=Asked(tools=[WEATHER], tool_choice={
            "type": "function", "function": {"name": "get_weather"}}))
    assert len(transport.sent) == 2


def test_no_token_reaches_a_correction() -> None:
    chat, transport, _ = use_case(["no json here", '{"ok": true}'])
    chat(ASK, access_token="tok-SECRET-123", asked=Asked(response_format={"type": "json_object"}))
    for conversation, _ in transport.sent:
        assert "tok-SECRET-123" not in json.dumps(conversation.to_dicts())


def test_the_async_client_does_the_same() -> None:
    async def run() -> Any:
        return await fakes.async_client().complete(ASK, tools=[WEATHER], tool_choice="required")

    with wired_with_fakes(replies=["nope", CALL]) as fakes:
        completion = asyncio.run(run())
    assert completion.tool_calls[0].args == {"city": "Paris"}
    assert len(fakes.async_transport.sent) == 2


def bad(**changes: Any) -> dict[str, Any]:
    function = {**WEATHER["function"], **changes}
    return {"type": "function", "function": function}


REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "tools not a list": ({"tools": WEATHER}, "tools must be a list, got dict"),
    "no name": ({"tools": [{"type": "function", "function": {"parameters": {}}}]},
                r"tools\[0\]\.function is missing 'name'"),
    "bad name": ({"tools": [bad(name="get weather")]}, r"tools\[0\]\.function: a tool's name"),
    "bad schema": ({"tools": [WEATHER, bad(name="b", parameters={"type": "strange"})]},
                   r"tools\[1\]\.function\.parameters is not a valid JSON Schema: "
                   r"at \$\.type: 'strange' is not valid"),
    "hosted tool": ({"tools": [{"type": "web_search"}]},
                    r"tools\[0\]: the hosted tool 'web_search' is not supported"),
    "twice the name": ({"tools": [WEATHER, WEATHER]},
                       r"tools\[1\]: the name 'get_weather' is used twice"),
    "unknown choice": ({"tools": [WEATHER], "tool_choice": "always"},
                       "tool_choice must be 'auto', 'none', 'required'"),
    "named, not offered": ({"tools": [WEATHER], "tool_choice": {
        "type": "function", "function": {"name": "launch"}}},
        "tool_choice names 'launch', which is not one of the tools"),
    "required, no tools": ({"tool_choice": "required"}, "tool_choice 'required' needs tools"),
    "bad format": ({"response_format": {"type": "yaml"}},
                   "response_format.type must be 'text', 'json_object' or 'json_schema'"),
    "no schema": ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
                  r"response_format\.json_schema\.schema is missing"),
    "bad format schema": ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"required": "a"}}}},
        r"response_format\.json_schema\.schema is not a valid JSON Schema"),
    "parallel not a bool": ({"tools": [WEATHER], "parallel_tool_calls": "yes"},
                            "parallel_tool_calls must be true or false"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_tools_or_formats_are_refused_before_any_io(case: str) -> None:
    arguments, expected = REFUSED[case]
    with wired_with_fakes(replies=["never"]) as fakes, pytest.raises(InvalidInput,
                                                                      match=expected):
        fakes.client().complete(ASK, **arguments)
    assert fakes.transport.sent == [] and fakes.token_source.token_fetches == 0


def test_without_jsonschema_installed_the_error_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema: ImportError
    with wired_with_fakes() as fakes, pytest.raises(InvalidConfig,
                                                    match=r"pip install 'voigpt\[tools\]'"):
        fakes.client().complete(ASK, tools=[WEATHER])
    assert fakes.transport.sent == []
