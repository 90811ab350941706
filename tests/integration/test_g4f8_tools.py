"""Tools and formats through the real g4f 8 with ``provider=VoiGpt``, against the emulator
scripted with the model's replies: g4f hands ``tools``/``tool_choice`` to voigpt (it
declares ``supports_native_tools``), voigpt's checks and repair apply, and the calls come
back as g4f's ``ToolCalls``, which g4f's clients make ``message.tool_calls``."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import g4f
import g4f.cookies
import g4f.debug
import pytest
from g4f.client import AsyncClient, Client

import voigpt
from tests.e2e.test_g4f8_api_server import api_server, post  # noqa: F401  (a fixture)
from tests.support.messages import EMULATOR_REPLY, HELLO
from voigpt import VoiGpt
from voigpt.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]},
}}
CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(autouse=True)
def g4f_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No version check thread (it asks PyPI), g4f's files under ``tmp_path``, no proxy."""
    monkeypatch.setattr(g4f.debug, "version_check", False)
    monkeypatch.setattr(g4f.cookies.CookiesConfig, "cookies_dir", str(tmp_path / "g4f"))
    monkeypatch.delenv("G4F_PROXY", raising=False)
    monkeypatch.delenv("G4F_TOOL_EMULATION", raising=False)


@pytest.fixture
def site_for_g4f(emulator: Emulator, g4f_provider: type[VoiGpt]) -> Iterator[Emulator]:
    VoiGpt.url = emulator.url
    yield emulator


def posts(emulator: Emulator) -> list[list[dict[str, str]]]:
    """The messages of each completion request the site received."""
    return [json.loads(r.body)["messages"] for r in emulator.requests if r.method == "POST"]


def calls_of(message: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls]


def test_client_gets_the_call_as_tool_calls(site_for_g4f: Emulator) -> None:
    site_for_g4f.queue_replies(CALL)
    answer = Client().chat.completions.create(model="", provider=VoiGpt, tools=[WEATHER],
                                              messages=ASK)
    choice = answer.choices[0]
    assert calls_of(choice.message) == [("get_weather", {"city": "Paris"})]
    assert choice.message.tool_calls[0].id.startswith("call_")
    assert choice.message.tool_calls[0].type == "function"
    assert choice.finish_reason == "tool_calls"
    assert not choice.message.content
    # voigpt's instructions reached the site, not g4f's own emulation prompt.
    [sent] = posts(site_for_g4f)
    assert sent[-1]["role"] == "system" and "get_weather" in sent[-1]["content"]
    assert not any("You have access to the following tools" in m["content"] for m in sent)


def test_a_streamed_call_is_a_tool_call_delta_then_the_finish(site_for_g4f: Emulator) -> None:
    site_for_g4f.queue_replies(CALL)
    chunks = list(Client().chat.completions.create(
        model="", provider=VoiGpt, tools=[WEATHER], messages=ASK, stream=True))
    assert calls_of(chunks[0].choices[0].delta) == [("get_weather", {"city": "Paris"})]
    assert [chunk.choices[0].finish_reason for chunk in chunks] == [None, "tool_calls"]


def test_async_client_call_then_its_result_fed_back(site_for_g4f: Emulator) -> None:
    # g4f's async path adds "reasoning_content" to an assistant message with tool_calls.
    async def loop() -> tuple[Any, Any]:
        client = AsyncClient()
        first = await client.chat.completions.create(
            model="", provider=VoiGpt, tools=[WEATHER], messages=ASK)
        call = first.choices[0].message.tool_calls[0]
        history = [*ASK, {"role": "assistant", "content": None,
                          "tool_calls": [call.model_dump()]},
                   {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"}]
        second = await client.chat.completions.create(
            model="", provider=VoiGpt, tools=[WEATHER], messages=history)
        return first, second

    site_for_g4f.queue_replies(CALL, "It is sunny in Paris.")
    first, second = asyncio.run(loop())
    call_id = first.choices[0].message.tool_calls[0].id
    assert first.choices[0].finish_reason == "tool_calls"
    assert second.choices[0].message.content == "It is sunny in Paris."
    assert second.choices[0].finish_reason == "stop"
    texts = [m["content"] for m in posts(site_for_g4f)[1]]
    assert any(f"Result of tool call {call_id}" in text and "Sunny, 21 C" in text
               for text in texts)


def test_tool_choice_required_is_honoured_with_one_repair(site_for_g4f: Emulator) -> None:
    site_for_g4f.queue_replies("Paris is lovely.", CALL)
    answer = Client().chat.completions.create(
        model="", provider=VoiGpt, tools=[WEATHER], tool_choice="required", messages=ASK)
    assert calls_of(answer.choices[0].message) == [("get_weather", {"city": "Paris"})]
    assert len(posts(site_for_g4f)) == 2  # the text answer was refused and repaired


def test_a_text_answer_with_tools_offered_is_content(site_for_g4f: Emulator) -> None:
    site_for_g4f.queue_replies("I need no tool for that.")
    answer = Client().chat.completions.create(model="", provider=VoiGpt, tools=[WEATHER],
                                              messages=ASK)
    assert answer.choices[0].message.content == "I need no tool for that."
    assert answer.choices[0].message.tool_calls is None
    assert answer.choices[0].finish_reason == "stop"


def test_plain_is_still_plain(site_for_g4f: Emulator) -> None:
    answer = Client().chat.completions.create(model="", provider=VoiGpt, messages=HELLO)
    assert answer.choices[0].message.content == EMULATOR_REPLY
    assert posts(site_for_g4f) == [HELLO]  # no instructions added


def test_response_format_where_g4f_passes_it(site_for_g4f: Emulator) -> None:
    # g4f's Client keeps response_format for itself; g4f.ChatCompletion passes it on.
    site_for_g4f.queue_replies('Here it is: {"city": "Paris", "celsius": 21}')
    text = g4f.ChatCompletion.create("", ASK, provider=VoiGpt,
                                     response_format={"type": "json_object"})
    assert json.loads(text) == {"city": "Paris", "celsius": 21}
    assert "JSON" in posts(site_for_g4f)[0][-1]["content"]


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"tools": [{"type": "function", "function": {"name": "get weather!"}}]},
     "tools[0].function"),
    ({"tools": [{"type": "function", "function": {
        "name": "w", "parameters": {"type": "object", "properties": {"c": {"type": 12}}}}}]},
     "tools[0].function.parameters"),
    ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
])
def test_a_bad_tool_is_voigpts_error_before_any_request(
    site_for_g4f: Emulator, kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(voigpt.InvalidInput, match=rf"^{re.escape(named)}[: ]"):
        Client().chat.completions.create(model="", provider=VoiGpt, messages=ASK, **kwargs)
    assert site_for_g4f.requests == []


def test_g4f_own_emulation_when_forced_still_works(site_for_g4f: Emulator) -> None:
    # tool_emulation=True makes g4f wrap VoiGpt in its prompt emulation, which passes
    # response_format={"type": "json"}: not a format voigpt is asked for.
    site_for_g4f.queue_replies('{"tool_calls": [' + CALL + ']}')
    answer = Client().chat.completions.create(model="", provider=VoiGpt, tools=[WEATHER],
                                              messages=ASK, tool_emulation=True)
    assert calls_of(answer.choices[0].message) == [("get_weather", {"city": "Paris"})]
    assert "You have access to the following tools" in posts(site_for_g4f)[0][0]["content"]


def test_without_g4f_the_calls_are_json_text(site_for_g4f: Emulator) -> None:
    script = (
        "import asyncio, sys\n"
        "sys.modules['g4f'] = None  # g4f is not installed\n"
        "from voigpt import VoiGpt\n"
        f"VoiGpt.url = {site_for_g4f.url!r}\n"
        f"tools, ask = {[WEATHER]!r}, {ASK!r}\n"
        "print(''.join(VoiGpt.create_completion('', ask, False, tools=tools)))\n"
        "print(asyncio.run(VoiGpt.create_async('', ask, tools=tools)))\n"
    )
    site_for_g4f.queue_replies(CALL, CALL)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr
    for line in run.stdout.splitlines():
        [call] = json.loads(line)
        assert call["type"] == "function" and call["id"].startswith("call_")
        assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert len(run.stdout.splitlines()) == 2


def test_the_api_server_answers_with_tool_calls(
    api_server: str, voigpt_emulator: Emulator  # noqa: F811
) -> None:
    voigpt_emulator.queue_replies(CALL)
    status, body = post(f"{api_server}/v1/chat/completions",
                        {"model": "", "messages": ASK, "tools": [WEATHER]})
    assert status == 200, body
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    [sent] = posts(voigpt_emulator)  # voigpt's instructions, not g4f's own emulation prompt
    assert "get_weather" in sent[-1]["content"]
    assert not any("You have access to the following tools" in m["content"] for m in sent)
