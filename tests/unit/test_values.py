"""Value objects keep secrets out of sight and apply the seed's defaults."""

from __future__ import annotations

import pytest

from voigpt.adapters.site import decode_reply, encode_request
from voigpt.domain import AccessToken, Completion
from voigpt.domain.errors import InvalidInput, MalformedReply
from voigpt.domain.values import Conversation

CANARY = "CANARYtoken0123456789abcdef"


def test_access_token_never_shows_its_value() -> None:
    token = AccessToken.parse(CANARY)
    for shown in (repr(token), str(token), f"{token}", repr([token])):
        assert CANARY not in shown
    assert token.value == CANARY


@pytest.mark.parametrize("bad", ["", "a b", "a;b", 'a"b', "a\r\nX-Evil: 1", "x" * 5000])
def test_access_token_rejects_values_that_would_break_the_cookie(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not a usable cookie value") as info:
        AccessToken.parse(bad)
    assert bad.strip() == "" or bad not in str(info.value)


def test_completion_prints_as_its_text() -> None:
    assert str(Completion(text="hi", model="m")) == "hi"


def test_request_body_is_the_messages_list_as_utf8_json() -> None:
    conversation = Conversation.from_dicts([{"role": "user", "content": "Привет"}])
    assert encode_request(conversation) == (
        '{"messages":[{"role":"user","content":"Привет"}]}'.encode()
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<html>nope</html>", "is not JSON"),
        ("", "is not JSON"),
        ('{"detail": "x"}', 'has no "response" field'),
        ("[1, 2]", 'has no "response" field'),
        ('{"response": 42}', "of type int, not a string"),
    ],
)
def test_malformed_replies_are_runtime_errors_with_an_excerpt(body: str, expected: str) -> None:
    with pytest.raises(RuntimeError, match=expected) as info:
        decode_reply(body)
    assert isinstance(info.value, MalformedReply)
    if body:
        assert body[:10] in str(info.value)


def test_excerpt_of_a_huge_body_is_bounded() -> None:
    with pytest.raises(MalformedReply) as info:
        decode_reply("<" + "x" * 100_000)
    assert len(info.value.excerpt) <= 500
    assert len(str(info.value)) < 700


def test_a_question_is_an_optional_system_message_then_the_user_prompt() -> None:
    assert Conversation.question("Hi").to_dicts() == [{"role": "user", "content": "Hi"}]
    assert Conversation.question("Hi", system="S").to_dicts() == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Hi"},
    ]
