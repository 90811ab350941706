"""The wire's JSON is the same whichever library writes and reads it: orjson (the server
extra's, on the hot path) writes the very bytes the stdlib's encoder writes, and reads a
reply as the stdlib does, leaving everything it will not read to the stdlib."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voigpt.adapters.site import wire
from voigpt.domain.errors import MalformedReply
from voigpt.domain.values import Conversation

orjson = pytest.importorskip("orjson", reason="orjson comes with the server extra")

# Text a message may carry: any code point but the lone surrogates UTF-8 cannot encode.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)))


@given(st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), TEXT), min_size=1))
def test_the_request_body_is_the_stdlib_encoders_bytes(turns: list[tuple[str, str]]) -> None:
    conversation = Conversation.from_dicts([{"role": r, "content": c} for r, c in turns])
    stdlib = json.dumps({"messages": conversation.to_dicts()}, ensure_ascii=False,
                        separators=(",", ":")).encode()
    assert wire.encode_request(conversation) == stdlib


def _stdlib_reading(body: bytes) -> str:
    """What decode_reply answered before orjson read replies: the stdlib alone."""
    saved, wire.orjson = wire.orjson, None  # type: ignore[assignment]
    try:
        return wire.decode_reply(body)
    except MalformedReply as error:
        return f"MalformedReply: {error}"
    finally:
        wire.orjson = saved


def _reading(body: bytes) -> str:
    try:
        return wire.decode_reply(body)
    except MalformedReply as error:
        return f"MalformedReply: {error}"


@pytest.mark.parametrize("body", [
    b'{"response": "Hi"}', b'{"response": "a", "response": "b"}', b'{"response": "\\ud800x"}',
    b'{"response": "x", "n": 1e400}', b'{"response": "x", "n": NaN}',
    b'\xef\xbb\xbf{"response": "x"}',
    b'{"response": "x", "big": 123456789012345678901234567890}', b'{"response": 1}', b'[]',
    b'{"response": "\xff"}', b"", b"not json", b'{"answer": "x"}', b"[" * 5000 + b"]" * 5000,
    b'{"response": "\\u2028 \\" \\\\ \xf0\x9f\x98\x80"}',
])
def test_a_reply_reads_as_the_stdlib_reads_it(body: bytes) -> None:
    assert _reading(body) == _stdlib_reading(body)


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner), max_leaves=8,
), TEXT)
def test_any_document_reads_as_the_stdlib_reads_it(extra: object, text: str) -> None:
    body = json.dumps({"extra": extra, "response": text}, ensure_ascii=False).encode()
    assert _reading(body) == _stdlib_reading(body) == text
