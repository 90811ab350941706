"""Bad messages get an InvalidMessages (a ValueError) that says which item and why."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voigpt.domain import Conversation, Role
from voigpt.domain.errors import InvalidMessages
from voigpt.testing import Fakes

ROLES = [r.value for r in Role]

valid_message = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES), "content": st.text()}
).filter(lambda m: _utf8(m["content"]))


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], "must not be empty"),
        ("hello", "must be a list of dicts, got str"),
        ({"role": "user", "content": "x"}, "must be a list of dicts, got dict"),
        (None, "must be a list of dicts, got NoneType"),
        (["hi"], r"messages\[0\] must be a dict .* got str"),
        ([{"content": "x"}], r"messages\[0\] is missing 'role'"),
        ([{"role": "user"}], r"messages\[0\] is missing 'content'"),
        ([{}], r"messages\[0\] is missing 'role' and 'content'"),
        ([{"role": "bot", "content": "x"}], r"messages\[0\]: 'role' must be one of"),
        ([{"role": "user", "content": 3}], r"messages\[0\]: 'content' must be a string, got int"),
        (
            [{"role": "user", "content": "ok"}, {"role": "user", "content": None}],
            r"messages\[1\]: 'content' must be a string, got NoneType",
        ),
        # 'name' is accepted since OpenAI-style messages are (tests/unit/test_openai_messages.py)
        ([{"role": "user", "content": "x", "nick": "n"}], r"unknown keys \['nick'\]"),
        ([{"role": "user", "content": "a\ud800"}], r"not valid UTF-8 at index 1"),
    ],
)
def test_says_which_item_is_wrong_and_why(messages: Any, expected: str) -> None:
    with pytest.raises(InvalidMessages, match=expected):
        Conversation.from_dicts(messages)


@pytest.mark.parametrize("handler", [ValueError, RuntimeError], ids=["ValueError", "g4f-era"])
def test_a_client_given_bad_messages_raises_what_callers_catch_and_sends_nothing(
    voigpt_fakes: Fakes, handler: type[Exception]
) -> None:
    """``except ValueError`` (bad input) and ``except RuntimeError`` (code written for the old
    provider) both catch it, and neither a token nor a request was asked for."""
    client = voigpt_fakes.client()
    try:
        client.complete([{"role": "user", "content": "Hi"}, {"role": "robot", "content": "x"}])
    except handler as caught:
        assert "messages[1]: 'role' must be one of" in str(caught)
    else:
        pytest.fail("bad messages were accepted")
    assert voigpt_fakes.transport.sent == []
    assert voigpt_fakes.token_source.token_fetches == 0


@given(st.lists(valid_message, min_size=1, max_size=8))
def test_every_valid_conversation_round_trips(messages: list[dict[str, str]]) -> None:
    assert Conversation.from_dicts(messages).to_dicts() == messages


_not_a_message = st.one_of(
    st.none(), st.integers(), st.text(), st.lists(st.integers(), max_size=2),
    st.fixed_dictionaries({"role": st.text().filter(lambda r: r not in [*ROLES, "developer"]),
                           "content": st.text()}),
    st.fixed_dictionaries({"role": st.sampled_from(ROLES),
                           "content": st.one_of(st.none(), st.integers(), st.binary())}),
)


@given(
    st.lists(valid_message, max_size=3),
    _not_a_message,
    st.lists(valid_message, max_size=3),
)
def test_one_bad_item_anywhere_is_named_by_its_index(
    before: list[dict[str, str]], bad: Any, after: list[dict[str, str]]
) -> None:
    with pytest.raises(InvalidMessages, match=rf"messages\[{len(before)}\]"):
        Conversation.from_dicts([*before, bad, *after])


_pair_text = st.one_of(st.text(), st.sampled_from(["\ud800", "a\udfffb", ""]))
_pair_role = st.one_of(st.sampled_from([*ROLES, "developer"]), st.sampled_from(["", "bot"]))


@given(st.lists(st.tuples(_pair_role, _pair_text), max_size=6))
def test_pairs_make_what_the_same_dicts_make_errors_included(
    pairs: list[tuple[str, str]]
) -> None:
    """``from_pairs`` (the Responses route's turns) is ``from_dicts`` without the dicts: the
    same conversation, or the same error naming the same ``messages[i]``."""
    dicts = [{"role": role, "content": text} for role, text in pairs]
    try:
        expected = Conversation.from_dicts(dicts)
    except InvalidMessages as exc:
        with pytest.raises(InvalidMessages) as raised:
            Conversation.from_pairs(pairs)
        assert str(raised.value) == str(exc)
    else:
        assert Conversation.from_pairs(pairs) == expected
