"""``POST /v1/responses`` met by the agent frameworks that use it by default, each at its
default settings against ``voigpt serve`` with one alias flag: the OpenAI Agents SDK's
default model class (an ``Agent`` run by ``Runner.run_sync``) and pydantic-ai's
``openai:`` prefix and ``OpenAIResponsesModel``. What they send reaches the site as the
conversation they mean. The server runs in this process on a real uvicorn, over voigpt's
real aiohttp path to the bundled emulator."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.support.messages import EMULATOR_REPLY
from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

KEY = "sk-agents-key"


def answered(server: Served) -> float:
    """How many 200s POST /v1/responses has answered: proof that the framework used it."""
    return metric(server.url, "voigpt_server_requests_total", route="/v1/responses",
                  status="200")


HELLO_BRIEFLY = [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    # The frameworks' default model ids (gpt-4o, gpt-4.1, gpt-5...): one alias flag.
    settings = ServerSettings(api_keys=(KEY,), model_aliases=("gpt-*",))
    with served(client, settings) as running:
        yield running


def test_the_agents_sdks_default_model_runs_an_agent(server: Served, emulator: Emulator) -> None:
    import agents

    agents.set_default_openai_client(
        openai.AsyncOpenAI(base_url=server.v1, api_key=KEY, max_retries=0),
        use_for_tracing=False,
    )
    agents.set_tracing_disabled(True)
    agent = agents.Agent(name="Assistant", instructions="Be brief.")
    before = answered(server)
    result = agents.Runner.run_sync(agent, "Hello")
    assert answered(server) == before + 1
    assert result.final_output == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": HELLO_BRIEFLY}


def test_pydantic_ais_responses_model(server: Served, emulator: Emulator) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    model = OpenAIResponsesModel(
        "gpt-4o", provider=OpenAIProvider(base_url=server.v1, api_key=KEY))
    before = answered(server)
    result = Agent(model, instructions="Be brief.").run_sync("Hello")
    assert answered(server) == before + 1
    assert result.output == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": HELLO_BRIEFLY}


def test_pydantic_ais_openai_prefix(
    server: Served, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic_ai import Agent

    monkeypatch.setenv("OPENAI_BASE_URL", server.v1)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    before = answered(server)
    result = Agent("openai:gpt-4o").run_sync("Hello")
    assert answered(server) == before + 1
    assert result.output == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": [{"role": "user", "content": "Hello"}]}
