"""The container wires config -> adapters -> use case, and fakes swap in by override."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.messages import FAKE_REPLY, HELLO
from voigpt import Client, build_container
from voigpt.adapters.requests import RequestsChatTransport, RequestsTokenSource
from voigpt.container import Container, close_container
from voigpt.testing import FakeChatTransport, Fakes, FakeTokenSource


@pytest.fixture
def container() -> Iterator[Container]:
    container = build_container(base_url="http://127.0.0.1:9", environ={})
    yield container


def test_http_backend_builds_the_requests_adapters_sharing_one_session(
    container: Container,
) -> None:
    transport = container.transport()
    source = container.token_source()
    assert isinstance(transport, RequestsChatTransport)
    assert isinstance(source, RequestsTokenSource)
    assert transport.endpoint is source.endpoint
    assert container.transport() is transport


def test_fake_backend_selects_the_in_memory_adapters() -> None:
    container = build_container(backend="fake", environ={})
    assert isinstance(container.transport(), FakeChatTransport)
    assert isinstance(container.token_source(), FakeTokenSource)


def test_overriding_the_transport_applies_to_the_next_call(container: Container) -> None:
    assert isinstance(container.transport(), RequestsChatTransport)  # already built
    fake = FakeChatTransport(replies=["from the fake"])
    source = FakeTokenSource()
    with container.transport.override(fake), container.token_source.override(source):
        completion = container.complete_chat()(HELLO)
    assert completion.text == "from the fake"
    assert fake.sent[0].conversation.to_dicts() == HELLO
    assert source.token_fetches == 1


def test_client_takes_a_prepared_container_and_asks(voigpt_fakes: Fakes) -> None:
    client = Client(container=voigpt_fakes.container)
    assert client.ask("Hi", system="Be brief") == "[voigpt fake] You said: Hi"
    sent = voigpt_fakes.transport.sent
    assert [m.role.value for m in sent[0].conversation.messages] == ["system", "user"]


def test_client_reads_the_environment_when_not_told_otherwise() -> None:
    with Client(environ={"VOIGPT_BACKEND": "fake"}) as client:
        assert client.complete(HELLO).text == FAKE_REPLY
        assert "fake" in repr(client)


def test_client_refuses_a_container_and_settings_together(container: Container) -> None:
    with pytest.raises(TypeError, match="either container= or settings"):
        Client(container=container, timeout=3)



def test_closing_forgets_every_singleton_the_selectors_hold_too(container: Container) -> None:
    transport, session = container.transport(), container.session()
    cache = container.token_cache()
    close_container(container)
    assert container.transport() is not transport  # a Selector's child singleton
    assert container.session() is not session
    assert container.token_cache() is not cache
    assert container.transport().endpoint.session is container.session()


def test_two_containers_share_no_provider() -> None:
    first, second = Container(), Container()
    assert first.transport is not second.transport
    assert first.config is not second.config


def test_the_container_keeps_the_declarative_containers_methods_embedders_use(
    container: Container,
) -> None:
    assert {"transport", "token_source", "complete_chat", "async_complete_chat"} <= set(
        container.providers)
    fake = FakeChatTransport(replies=["overridden"])
    with container.override_providers(transport=fake, token_source=FakeTokenSource()):
        assert container.transport() is fake
        assert Client(container=container).ask("hi") == "overridden"
    assert isinstance(container.transport(), RequestsChatTransport)  # undone
    with pytest.raises(AttributeError, match="no provider named nope"), \
            container.override_providers(nope=fake):
        pass
