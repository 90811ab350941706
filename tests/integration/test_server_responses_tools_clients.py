"""Tools and structured output on ``POST /v1/responses``, met by the agent frameworks that
use it by default, at their default settings against ``voigpt serve`` with one alias flag:
the OpenAI Agents SDK (an ``@function_tool`` called and its result fed back into the next
turn; ``output_type=`` a pydantic model) and pydantic-ai's ``OpenAIResponsesModel``
(``output_type=``, which it asks for through a ``final_result`` tool, and an
``@agent.tool_plain`` called then the final answer). The site's replies are scripted on
the bundled emulator; the server runs in this process on a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest
from pydantic_ai import RunContext  # at module level: pydantic-ai resolves the tool's hints

from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

KEY = "sk-responses-tools-clients-key"
ASK = "What is the weather in Paris?"
CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
RESULT = "sunny, 21 C"


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


def answered(server: Served) -> float:
    return metric(server.url, "voigpt_server_requests_total", route="/v1/responses",
                  status="200")


def sent(emulator: Emulator, index: int = -1) -> list[dict[str, Any]]:
    """The messages of the site's ``index``-th completion request (token fetches aside)."""
    posts = [request for request in emulator.requests if request.method == "POST"]
    messages: list[dict[str, Any]] = posts[index].json()["messages"]  # type: ignore[index]
    return messages


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    settings = ServerSettings(api_keys=(KEY,), model_aliases=("gpt-*",))
    with served(client, settings) as running:
        yield running


@pytest.fixture
def agents_sdk(server: Served) -> Any:
    import agents

    agents.set_default_openai_client(
        openai.AsyncOpenAI(base_url=server.v1, api_key=KEY, max_retries=0),
        use_for_tracing=False,
    )
    agents.set_tracing_disabled(True)
    return agents


def test_an_agents_sdk_function_tool_is_called_and_its_result_fed_back(
    server: Served, emulator: Emulator, agents_sdk: Any
) -> None:
    calls: list[str] = []

    @agents_sdk.function_tool  # type: ignore[untyped-decorator]
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return RESULT

    agent = agents_sdk.Agent(name="Assistant", instructions="Be brief.", tools=[get_weather])
    emulator.queue_replies(CALL, "It is sunny in Paris.")
    before = answered(server)
    result = agents_sdk.Runner.run_sync(agent, ASK)
    assert calls == ["Paris"]
    assert result.final_output == "It is sunny in Paris."
    assert answered(server) == before + 2
    second = sent(emulator)
    assert second[:2] == [{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": ASK}]
    assert second[2]["role"] == "assistant" and '"name":"get_weather"' in second[2]["content"]
    assert second[3]["role"] == "user" and second[3]["content"].endswith(":\n" + RESULT)
    assert "get_weather" in sent(emulator, 0)[-1]["content"]  # the tool was described


def test_an_agents_sdk_output_type_is_a_parsed_model(
    emulator: Emulator, agents_sdk: Any
) -> None:
    agent = agents_sdk.Agent(name="Assistant", output_type=Weather)
    emulator.queue_replies('```json\n{"city": "Paris", "celsius": 21}\n```')
    result = agents_sdk.Runner.run_sync(agent, ASK)
    assert result.final_output == Weather(city="Paris", celsius=21)
    assert "celsius" in sent(emulator)[-1]["content"]


def _pydantic_ai_model(server: Served) -> Any:
    from pydantic_ai.models.openai import OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    return OpenAIResponsesModel("gpt-4o",
                                provider=OpenAIProvider(base_url=server.v1, api_key=KEY))


def test_a_pydantic_ai_output_type_comes_through_its_final_result_tool(
    server: Served, emulator: Emulator
) -> None:
    from pydantic_ai import Agent

    emulator.queue_replies('{"name": "final_result", "arguments": {"city": "Paris", '
                           '"celsius": 21}}')
    result = Agent(_pydantic_ai_model(server), output_type=Weather).run_sync(ASK)
    assert result.output == Weather(city="Paris", celsius=21)
    assert "final_result" in sent(emulator)[-1]["content"]


def test_a_pydantic_ai_tool_is_called_then_the_final_answer(
    server: Served, emulator: Emulator
) -> None:
    from pydantic_ai import Agent

    agent = Agent(_pydantic_ai_model(server), instructions="Be brief.")
    calls: list[str] = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return RESULT

    emulator.queue_replies(f"```json\n{CALL}\n```", "It is sunny in Paris.")
    before = answered(server)
    result = agent.run_sync(ASK)
    assert calls == ["Paris"] and result.output == "It is sunny in Paris."
    assert answered(server) == before + 2
    second = sent(emulator)
    assert second[2]["role"] == "assistant" and '"name":"get_weather"' in second[2]["content"]
    assert second[3]["role"] == "user" and second[3]["content"].endswith(":\n" + RESULT)


def test_a_pydantic_ai_agent_tool_with_its_context(server: Served, emulator: Emulator) -> None:
    from pydantic_ai import Agent

    agent = Agent(_pydantic_ai_model(server), deps_type=str, output_type=Weather)

    @agent.tool
    def get_weather(ctx: RunContext[str], city: str) -> str:
        """The weather in a city."""
        return f"{ctx.deps}: 21"

    emulator.queue_replies(CALL, '{"name": "final_result", "arguments": {"city": "Paris", '
                                 '"celsius": 21}}')
    result = agent.run_sync(ASK, deps="celsius")
    assert result.output == Weather(city="Paris", celsius=21)
    assert sent(emulator)[2]["content"].endswith(":\ncelsius: 21")
