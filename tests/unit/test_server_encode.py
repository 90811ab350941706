"""The server's JSON writer (orjson, the stdlib where orjson refuses) writes what the
stdlib would have read back as the same document, whatever the values."""

from __future__ import annotations

import json

import pytest

from voigpt.entrypoints.server.endpoint import encode

DOCUMENTS = [
    {"content": 'é "x" \u2028 \U0001f600 \x00\x1f\x7f', "n": 1, "f": 0.1, "none": None},
    {"args": {"big": 10**30, "neg": -(2**64)}},  # past 64 bits: orjson refuses, stdlib writes
    {"deep": [[[[{"a": [1, 2.5, True, False]}]]]]},
    {1: "int key", "k": [1e-7, 1e300]},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_what_it_writes_reads_back_as_the_document(document: dict[object, object]) -> None:
    text = encode(document)
    assert json.loads(text) == json.loads(json.dumps(document))
    assert ", " not in text and '": ' not in text  # compact
    assert "\\u00e9" not in text  # non-ASCII as is


def test_a_lone_surrogate_is_written_as_the_stdlib_writes_it() -> None:
    assert encode({"a": "\ud800"}) == json.dumps({"a": "\ud800"}, ensure_ascii=False,
                                                 separators=(",", ":"))
