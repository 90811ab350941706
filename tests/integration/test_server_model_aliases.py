"""Model ids through the official ``openai`` SDK: with ``--model-alias`` patterns the ids
tools send by default (``gpt-4o-mini``, dated and prefixed ids) are served by the site's
model, and every answer, chat or legacy, plain or streamed, names ``gpt-3.5-turbo``, the
model that served it; ``/v1/models`` lists the literal aliases. Without an alias an id is
a 404 naming the id, the model served and the flag that would accept it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, error_of, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

SERVED = "gpt-3.5-turbo"
ALIASES = ("gpt-4o*", "openai/gpt-3.5-turbo", "gpt-4")


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, ServerSettings(model_aliases=ALIASES)) as running:
        yield running


@pytest.fixture(scope="module")
def plain(site: Emulator) -> Iterator[Served]:
    """No alias: only the site's model."""
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client) as running:
        yield running


def sdk(server: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key="sk-unused", max_retries=0)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4o", "gpt-4", "openai/gpt-3.5-turbo"])
def test_an_alias_is_answered_by_the_model_that_served_it(
    server: Served, emulator: Emulator, model: str
) -> None:
    with sdk(server) as client:
        chat = client.chat.completions.create(model=model, messages=HELLO)  # type: ignore[arg-type]
        legacy = client.completions.create(model=model, prompt="Hello")
        streamed = list(client.chat.completions.create(
            model=model, messages=HELLO, stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        ))
        legacy_streamed = list(client.completions.create(model=model, prompt="Hello",
                                                          stream=True))
    assert chat.model == legacy.model == SERVED
    assert chat.choices[0].message.content == legacy.choices[0].text == EMULATOR_REPLY
    assert {chunk.model for chunk in streamed + legacy_streamed} == {SERVED}
    sent = [request.json() for request in emulator.requests if request.method == "POST"]
    assert sent == [{"messages": HELLO}] * 4  # no model name goes upstream


def test_models_lists_the_literal_aliases_and_retrieves_any_accepted_id(
    server: Served,
) -> None:
    with sdk(server) as client:
        listed = [model.id for model in client.models.list()]
        alias = client.models.retrieve("gpt-4")
        globbed = client.models.retrieve("gpt-4o-mini")
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("gpt-5")
    assert listed == [SERVED, "openai/gpt-3.5-turbo", "gpt-4"]
    assert (alias.id, alias.owned_by) == ("gpt-4", "voigpt")
    assert globbed.id == "gpt-4o-mini"


@pytest.mark.parametrize("path", ["/chat/completions", "/completions"])
def test_an_unknown_id_is_a_404_naming_it_the_served_model_and_the_flag(
    plain: Served, emulator: Emulator, path: str
) -> None:
    body = {"model": "gpt-4o-mini", "messages": HELLO, "prompt": "Hello"}
    error = error_of(httpx.post(plain.v1 + path, json=body, timeout=10), 404)
    assert (error["code"], error["param"]) == ("model_not_found", "model")
    message = str(error["message"])
    assert "'gpt-4o-mini'" in message and SERVED in message
    assert "--model-alias gpt-4o-mini" in message and "VOIGPT_MODEL_ALIASES" in message
    assert not emulator.requests  # nothing went upstream


def test_the_sdk_raises_not_found_for_an_unknown_id_without_an_alias(plain: Served) -> None:
    with sdk(plain) as client:
        with pytest.raises(openai.NotFoundError) as info:
            client.completions.create(model="gpt-4o", prompt="Hello")
        assert "--model-alias" in info.value.message
        with pytest.raises(openai.NotFoundError) as retrieved:
            client.models.retrieve("gpt-4o")
        assert "--model-alias" in retrieved.value.message
        assert [model.id for model in client.models.list()] == [SERVED]
        assert client.completions.create(model=SERVED, prompt="Hello").model == SERVED
