"""Every ``Completion.text`` is valid Unicode that encodes to UTF-8, whatever a transport
returned: each lone surrogate (half of an emoji cut in two) becomes U+FFFD, as a browser
shows it, and the rest is kept. The rule lives in the value; the fakes go through it too."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voigpt.domain import Completion
from voigpt.testing import wired_with_fakes

SURROGATES = st.characters(categories=["Cs"])  # left out of st.characters() by default
# st.text() drops surrogates whatever its alphabet, so the string is joined from a list.
ANY_CODE_POINTS = st.lists(st.one_of(st.characters(), SURROGATES)).map("".join)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("a\ud800b", "a\ufffdb"),  # a high surrogate alone
        ("a\udc00b", "a\ufffdb"),  # a low surrogate alone
        ("\udc00\ud800", "\ufffd\ufffd"),  # a pair in the wrong order is two halves
        ("\ud83d\ude00", "\U0001f600"),  # a pair held as two code points is the emoji
        ("cut \ud83d", "cut \ufffd"),  # the emoji's second half cut off at the end
    ],
)
def test_each_lone_surrogate_becomes_a_replacement_character(sent: str, kept: str) -> None:
    assert Completion(text=sent, model="m").text == kept


@given(ANY_CODE_POINTS)
def test_the_text_always_encodes_to_utf8_and_valid_text_is_kept_as_is(text: str) -> None:
    shown = Completion(text=text, model="m").text

    assert shown.encode("utf-8").decode("utf-8") == shown
    if all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        assert shown == text
    else:
        assert len(shown) <= len(text)


def test_a_text_that_is_not_a_string_is_still_refused() -> None:
    with pytest.raises(TypeError, match="'text' must be"):
        Completion(text=b"a\xed\xa0\x80b", model="m")  # type: ignore[arg-type]


def test_a_fake_transports_reply_is_read_by_the_same_rule() -> None:
    with wired_with_fakes(replies=["a\ud800b"]) as fakes:
        assert fakes.client().ask("Hello") == "a\ufffdb"
    with wired_with_fakes(replies=["a\ud800b"]) as fakes:
        assert asyncio.run(fakes.async_client().ask("Hello")) == "a\ufffdb"
