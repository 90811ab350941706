"""The completion use case, driven through the ports with in-memory fakes."""

from __future__ import annotations

import threading

import pytest

from tests.support.messages import FAKE_REPLY, HELLO
from voigpt.domain import AccessToken, CompleteChat, Conversation
from voigpt.domain.errors import AccessRejected, InvalidMessages, ServiceUnavailable
from voigpt.testing import FakeChatTransport, FakeClock, FakeTokenSource, InMemoryTokenCache


def make(
    transport: FakeChatTransport | None = None,
    source: FakeTokenSource | None = None,
    cache: InMemoryTokenCache | None = None,
    access_token: AccessToken | None = None,
) -> tuple[CompleteChat, FakeChatTransport, FakeTokenSource, InMemoryTokenCache]:
    transport = transport or FakeChatTransport()
    source = source or FakeTokenSource()
    cache = cache or InMemoryTokenCache()
    use_case = CompleteChat(transport, source, cache, FakeClock(), access_token=access_token)
    return use_case, transport, source, cache


class TestModel:
    @pytest.mark.parametrize("model", [None, ""])
    def test_defaults_to_gpt_35_turbo_when_missing_or_empty(self, model: str | None) -> None:
        use_case, *_ = make()
        assert use_case(HELLO, model=model).model == "gpt-3.5-turbo"

    def test_keeps_a_model_that_was_given(self) -> None:
        use_case, *_ = make()
        assert use_case(HELLO, model="gpt-4").model == "gpt-4"


class TestTokenChoice:
    def test_fetches_a_token_once_and_reuses_it_from_the_cache(self) -> None:
        use_case, transport, source, cache = make()
        use_case(HELLO)
        use_case(HELLO)
        assert source.token_fetches == 1
        assert [s.token.value for s in transport.sent] == ["fake-token-1", "fake-token-1"]
        assert cache.get() == AccessToken("fake-token-1")

    def test_uses_a_cached_token_without_fetching(self) -> None:
        use_case, transport, source, _ = make(cache=InMemoryTokenCache(AccessToken("cached")))
        use_case(HELLO)
        assert source.token_fetches == 0
        assert transport.sent[0].token.value == "cached"

    def test_explicit_token_wins_over_the_cache_and_is_not_cached(self) -> None:
        use_case, transport, source, cache = make(cache=InMemoryTokenCache(AccessToken("c")))
        use_case(HELLO, access_token="explicit")
        assert transport.sent[0].token.value == "explicit"
        assert source.token_fetches == 0
        assert cache.get() == AccessToken("c")

    def test_configured_token_is_used_like_an_explicit_one(self) -> None:
        use_case, transport, source, _ = make(access_token=AccessToken("configured"))
        use_case(HELLO)
        assert transport.sent[0].token.value == "configured"
        assert source.token_fetches == 0


class TestStaleToken:
    def test_refetches_token_once_when_csrf_is_rejected(self) -> None:
        transport = FakeChatTransport(accepted_tokens={"fresh"})
        use_case, _, source, cache = make(
            transport=transport,
            source=FakeTokenSource(["fresh"]),
            cache=InMemoryTokenCache(AccessToken("stale")),
        )
        assert use_case(HELLO).text == FAKE_REPLY
        assert [s.token.value for s in transport.sent] == ["stale", "fresh"]
        assert source.token_fetches == 1
        assert cache.get() == AccessToken("fresh")

    def test_gives_up_after_one_refresh_and_forgets_the_bad_token(self) -> None:
        transport = FakeChatTransport(accepted_tokens=set())
        use_case, _, source, cache = make(transport=transport)
        with pytest.raises(AccessRejected, match="freshly fetched token too"):
            use_case(HELLO)
        assert source.token_fetches == 2
        assert len(transport.sent) == 2
        assert cache.get() is None

    def test_never_replaces_an_explicit_token_and_says_to_get_a_fresh_one(self) -> None:
        transport = FakeChatTransport(accepted_tokens={"good"})
        use_case, _, source, _ = make(transport=transport)
        with pytest.raises(AccessRejected, match="get a fresh csrftoken") as info:
            use_case(HELLO, access_token="old")
        assert info.value.explicit is True
        assert source.token_fetches == 0
        assert len(transport.sent) == 1
        assert "old" not in str(info.value)


class TestErrors:
    def test_other_transport_errors_propagate_unchanged(self) -> None:
        boom = ServiceUnavailable("down", status=500)
        use_case, transport, _, _ = make(transport=FakeChatTransport([boom]))
        with pytest.raises(ServiceUnavailable) as info:
            use_case(HELLO)
        assert info.value is boom
        assert len(transport.sent) == 1

    def test_invalid_messages_are_rejected_before_a_token_is_fetched(self) -> None:
        use_case, transport, source, _ = make()
        with pytest.raises(InvalidMessages, match=r"messages\[1\]"):
            use_case([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}])
        assert source.token_fetches == 0
        assert transport.sent == []


class TestConversation:
    def test_sends_the_whole_history_in_order(self) -> None:
        use_case, transport, *_ = make()
        history = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "How are you?"},
        ]
        completion = use_case(history)
        assert transport.sent[0].conversation.to_dicts() == history
        assert completion.text == "[voigpt fake] You said: How are you?"

    def test_accepts_a_conversation_object(self) -> None:
        use_case, transport, *_ = make()
        conversation = Conversation.question("x")
        use_case(conversation)
        assert transport.sent[0].conversation is conversation


class TestConcurrency:
    def test_many_threads_on_a_cold_cache_fetch_the_token_once(self) -> None:
        use_case, transport, source, _ = make()
        barrier = threading.Barrier(16)
        failures: list[BaseException] = []

        def work() -> None:
            try:
                barrier.wait()
                for _ in range(20):
                    assert use_case(HELLO).text.endswith("Hello")
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert source.token_fetches == 1
        assert len(transport.sent) == 320
