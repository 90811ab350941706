"""``POST /v1/responses`` met by two more clients nobody here wrote, at their default
settings but for the Responses switch and one alias flag: LangChain's ``ChatOpenAI`` with
``use_responses_api=True`` (plain and streamed) and ``litellm.responses()``. What they
send reaches the site as the conversation they mean. The server runs in this process on a
real uvicorn, over voigpt's real aiohttp path to the bundled emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.messages import EMULATOR_REPLY
from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

KEY = "sk-langchain-litellm-key"
BRIEFLY_HELLO = [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Hello"}]


def answered(server: Served) -> float:
    """How many 200s POST /v1/responses has answered: proof that the client used it."""
    return metric(server.url, "voigpt_server_requests_total", route="/v1/responses",
                  status="200")


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    settings = ServerSettings(api_keys=(KEY,), model_aliases=("gpt-*",))
    with served(client, settings) as running:
        yield running


def chat_openai(server: Served) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model="gpt-4o-mini", base_url=server.v1, api_key=KEY,
                      use_responses_api=True, max_retries=0)


def test_langchains_chat_openai_on_the_responses_api(server: Served, emulator: Emulator) -> None:
    model = chat_openai(server)
    before = answered(server)
    reply = model.invoke([("system", "Be brief."), ("human", "Hello")])
    assert answered(server) == before + 1
    assert reply.text == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": BRIEFLY_HELLO}


def test_langchains_chat_openai_streams_on_the_responses_api(
    server: Served, emulator: Emulator
) -> None:
    model = chat_openai(server)
    before = answered(server)
    chunks = list(model.stream([("system", "Be brief."), ("human", "Hello")]))
    assert answered(server) == before + 1
    assert "".join(chunk.text for chunk in chunks) == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": BRIEFLY_HELLO}


def test_litellm_responses(
    server: Served, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # litellm fetches its price list from the internet when imported, unless told not to:
    # nothing here may leave 127.0.0.1.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    before = answered(server)
    response = litellm.responses(
        model="openai/gpt-4o-mini", input="Hello", instructions="Be brief.",
        api_base=server.v1, api_key=KEY,
    )
    assert answered(server) == before + 1
    texts = [part.text for item in response.output if getattr(item, "content", None)
             for part in item.content if getattr(part, "type", "") == "output_text"]
    assert texts == [EMULATOR_REPLY]
    assert emulator.requests[-1].json() == {"messages": BRIEFLY_HELLO}
