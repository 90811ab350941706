"""The server reads a request's JSON as the stdlib reads it, whichever library does the
reading: orjson where it reads the body the same (strict UTF-8 JSON without huge integers),
the stdlib for everything else, with the same 400 for what neither reads."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voigpt.entrypoints.server import endpoint
from voigpt.entrypoints.server.errors import APIError

SCOPE = {"headers": [(b"content-type", b"application/json")]}

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``1 == 1.0`` is not enough here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def stdlib(body: bytes) -> object:
    """What the server read before orjson did: ``json.loads`` alone, and its 400s."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__


def read(body: bytes) -> object:
    try:
        return endpoint._document(SCOPE, body)
    except APIError as exc:
        return exc.message


def refusal(found: object) -> bool:
    return isinstance(found, str) and found.startswith("the body is not valid")


@given(VALUES, st.booleans(), st.booleans())
def test_a_json_body_reads_as_the_stdlib_reads_it(value: Any, ascii_only: bool,
                                                  spaced: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only,
                      separators=(", ", ": ") if spaced else (",", ":")).encode()
    assert same(read(body), stdlib(body))


ANY_BYTES = st.binary(max_size=64) | st.text(max_size=64).map(
    lambda t: t.encode("utf-8", "surrogatepass"))


@given(ANY_BYTES)
def test_any_bytes_read_or_are_refused_as_the_stdlib_would(body: bytes) -> None:
    found, expected = read(body), stdlib(body)
    if not body:
        assert found is None
    elif isinstance(expected, str) and expected in ("JSONDecodeError", "UnicodeDecodeError",
                                                    "RecursionError", "ValueError"):
        assert refusal(found), (body, found)
    else:
        assert same(found, expected), (body, found, expected)


@pytest.mark.parametrize("body", [
    b'{"seed": 100000000000000000000}', b'{"seed": -9223372036854775809}',
    b'{"n": 18446744073709551616}', b'{"a": 1e400}', b'{"a": NaN}', b'{"a": -Infinity}',
    b'\xef\xbb\xbf{"a": 1}', '{"a": 1}'.encode("utf-16"), b'{"a": "\\ud800"}',
    b'{"a": 1, "a": 2}', b'{"a": 0.1000000000000000055511151231257827}', b'{"a": -0.0}',
    b'[' * 100_000 + b']' * 100_000, b'{"a": "\xff"}', b' \t\n{"a": [1, 2.5, "x"]} \r\n',
])
def test_what_orjson_would_misread_or_refuse_is_the_stdlibs(body: bytes) -> None:
    found, expected = read(body), stdlib(body)
    if isinstance(expected, str) and not refusal(found):
        raise AssertionError(f"{body[:40]!r}: read {found!r}, the stdlib refused it")
    if not isinstance(expected, str):
        assert same(found, expected)


def test_a_huge_integer_keeps_its_digits() -> None:
    assert read(b'{"seed": 100000000000000000000}') == {"seed": 10**20}
