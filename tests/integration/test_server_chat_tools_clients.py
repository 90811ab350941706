"""The frameworks that need tools or structured output, at their defaults, against
``voigpt serve``'s chat route over a real uvicorn and the real emulator, whose replies each
test scripts: LangChain's ``ChatOpenAI`` (``bind_tools``; ``with_structured_output`` in
every method). instructor, which needs a venv of its own, is in
``tests/e2e/test_instructor_user.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI

from tests.support.server import Served, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

MODEL = "gpt-3.5-turbo"
# An alias LangChain believes has OpenAI's Structured Outputs: with gpt-3.5-turbo it falls
# back from method="json_schema" to function calling.
STRUCTURED = "gpt-4o-mini"
KEY = "sk-chat-tools-clients-key"
ASK = "What is the weather in Paris?"


class Weather(pydantic.BaseModel):
    """The weather in a city."""

    city: str
    celsius: int


ANSWER = '{"city": "Paris", "celsius": 21}'


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    settings = ServerSettings(api_keys=(KEY,), model_aliases=(STRUCTURED,))
    with served(client, settings) as running:
        yield running


def posts(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "POST"]


# --- LangChain ----------------------------------------------------------------------------


def _chat(server: Served, model: str = MODEL) -> ChatOpenAI:
    return ChatOpenAI(base_url=server.v1, api_key=KEY, model=model,  # type: ignore[arg-type]
                      max_retries=0)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_langchain_bind_tools_gives_tool_calls_and_takes_the_result_back(
    server: Served, emulator: Emulator
) -> None:
    emulator.queue_replies('{"tool_calls": [{"name": "get_weather", "arguments": '
                           '{"city": "Paris"}}]}', "It is sunny in Paris.")
    model = _chat(server).bind_tools([get_weather])
    history: list[Any] = [HumanMessage(ASK)]
    reply = model.invoke(history)
    assert isinstance(reply, AIMessage)
    (call,) = reply.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Paris"})
    assert call["id"] and call["id"].startswith("call_")
    history += [reply, ToolMessage(get_weather(**call["args"]), tool_call_id=call["id"])]
    final = model.invoke(history)
    assert final.content == "It is sunny in Paris."
    sent = emulator.requests[-1].json()["messages"]
    assert json.loads(sent[1]["content"])["tool_calls"][0]["name"] == "get_weather"
    assert sent[2]["content"] == f"Result of tool call {call['id']}:\nsunny in Paris"


def test_langchain_bind_tools_streamed(server: Served, emulator: Emulator) -> None:
    emulator.queue_replies('{"name": "get_weather", "arguments": {"city": "Oslo"}}')
    model = _chat(server).bind_tools([get_weather])
    gathered: Any = None
    for chunk in model.stream([HumanMessage(ASK)]):
        gathered = chunk if gathered is None else gathered + chunk
    assert [(c["name"], c["args"]) for c in gathered.tool_calls] == [
        ("get_weather", {"city": "Oslo"})]


CALLED = f'{{"name": "Weather", "arguments": {ANSWER}}}'
METHODS = {  # method (None: LangChain's default, json_schema), model, the scripted reply
    "default": (None, STRUCTURED, f"```json\n{ANSWER}\n```"),
    "json_schema": ("json_schema", STRUCTURED, ANSWER),
    "json_schema-as-3.5": ("json_schema", MODEL, CALLED),  # LangChain's fallback: a tool
    "function_calling": ("function_calling", MODEL, CALLED),
    "json_mode": ("json_mode", MODEL, f"Here it is: {ANSWER}"),
}


@pytest.mark.parametrize(("method", "model", "reply"), METHODS.values(), ids=METHODS.keys())
@pytest.mark.filterwarnings("ignore:Cannot use method='json_schema'")
def test_langchain_with_structured_output_in_every_method(
    server: Served, emulator: Emulator, method: str | None, model: str, reply: str
) -> None:
    emulator.queue_replies(reply)
    chat = _chat(server, model)
    structured = (chat.with_structured_output(Weather) if method is None
                  else chat.with_structured_output(Weather, method=method))  # type: ignore[arg-type]
    prompt = ASK if method != "json_mode" else ASK + " Answer in JSON with city and celsius."
    assert structured.invoke(prompt) == Weather(city="Paris", celsius=21)
    (sent,) = posts(emulator)
    told = sent.json()["messages"][-1]
    assert told["role"] == "system" and "JSON" in told["content"]
    if reply is not CALLED and method != "json_mode":
        assert '"celsius"' in told["content"]  # the schema itself, as a format
