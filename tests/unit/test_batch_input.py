"""The input file of ``voigpt batch`` is checked whole before anything is sent: every bad
line is found, by number, with what is wrong (the first 20 listed, all counted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from voigpt.domain.errors import InvalidInput
from voigpt.entrypoints.batch.parsing import BatchRequest, parse
from voigpt.entrypoints.batch.reading import BadInputFile, requests, survey


def line(custom_id: object = "a", **changes: Any) -> str:
    document: dict[str, Any] = {
        "custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
    }
    body = changes.pop("body", {})
    document.update(changes)
    if isinstance(body, dict):
        document["body"].update(body)
    else:
        document["body"] = body
    return json.dumps(document)


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(f"{text}\n" for text in lines), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, *lines: str) -> list[tuple[int, str]]:
    with pytest.raises(BadInputFile) as caught:
        survey(write(tmp_path / "in.jsonl", *lines))
    return caught.value.problems


def test_a_good_file_gives_its_ids(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", line("a"), line("b"), line("c"))
    assert survey(path) == {"a", "b", "c"}


def test_requests_are_read_back_in_order_with_the_default_model(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", line("a"), line("b", body={"model": None}))
    got = list(requests(path))
    assert [r.custom_id for r in got] == ["a", "b"]
    assert [r.model for r in got] == ["gpt-4o-mini", "gpt-3.5-turbo"]
    assert got[0].conversation.to_dicts() == [{"role": "user", "content": "Hi"}]


BAD_LINES = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "must be a JSON object, got an array"),
    (line(custom_id=None), "'custom_id' must be a non-empty string"),
    (line(custom_id=""), "'custom_id' must be a non-empty string"),
    (line(custom_id=7), "'custom_id' must be a non-empty string, got 7"),
    (line(method="GET"), "'method' must be 'POST', got \"GET\""),
    (line(url="/v1/embeddings"), "'url' must be '/v1/chat/completions'"),
    (line(body="hello"), "'body' must be an object, got a string"),
    (line(body={"messages": []}), "body.messages must not be empty"),
    (line(body={"messages": [{"role": "robot", "content": "x"}]}),
     "body.messages[0]: 'role' must be one of"),
    (line(body={"messages": [{"role": "user", "content": None}]}), "body.messages[0]"),
    (line(body={"model": 3}), "body.model must be a string"),
    (line(body={"n": 2}), "'body.n' must be 1"),
    (line(body={"tools": [{"type": "function"}]}), "body.tools[0] is missing 'name'"),
    (line(body={"tools": [{"type": "web_search"}]}), "body.tools[0]: the hosted tool"),
    (line(body={"tool_choice": "required"}), "body.tool_choice 'required' needs tools"),
    (line(body={"response_format": {"type": "xml"}}), "body.response_format.type must be"),
    (line(body={"functions": [{"name": "f"}]}), "'body.functions'"),
    (line(body={"logprobs": True}), "'body.logprobs'"),
    (line(body={"stream": True}), "'body.stream'"),
    (line(body={"modalities": ["text", "audio"]}), "'body.audio'/'body.modalities'"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_LINES, ids=[p for _, p in BAD_LINES])
def test_each_kind_of_bad_line_is_named_with_its_number(
    tmp_path: Path, text: str, problem: str
) -> None:
    found = problems_of(tmp_path, line("ok"), text)
    assert len(found) == 1
    number, message = found[0]
    assert number == 2
    assert problem in message


def test_a_line_without_custom_id_says_so(tmp_path: Path) -> None:
    assert problems_of(tmp_path, json.dumps({"method": "POST"})) == [(1, "'custom_id' is missing")]


def test_a_duplicate_custom_id_names_the_line_it_first_appeared_on(tmp_path: Path) -> None:
    found = problems_of(tmp_path, line("a"), line("b"), line("a"))
    assert found == [(3, "duplicate custom_id 'a' (first on line 1)")]


def test_a_duplicate_is_found_even_when_the_first_line_has_another_problem(
    tmp_path: Path,
) -> None:
    found = problems_of(tmp_path, line("a", method="GET"), line("a"))
    assert [number for number, _ in found] == [1, 2]


def test_undecodable_bytes_are_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(line("a").encode() + b"\n\xff\xfe{}\n")
    with pytest.raises(BadInputFile) as caught:
        survey(path)
    assert caught.value.problems == [(2, "not UTF-8 (byte 1)")]


def test_the_first_twenty_are_listed_and_all_are_counted(tmp_path: Path) -> None:
    lines = [line(f"id{n}") if n % 2 else "oops" for n in range(60)]
    with pytest.raises(BadInputFile) as caught:
        survey(write(tmp_path / "in.jsonl", *lines))
    error = caught.value
    assert error.count == 30
    assert [number for number, _ in error.problems] == list(range(1, 40, 2))
    text = str(error)
    assert text.splitlines()[0].endswith("30 bad lines; nothing was sent")
    assert "  line 39: invalid JSON" in text and "line 41" not in text
    assert text.splitlines()[-1] == "  ... and 10 more"
    assert isinstance(error, InvalidInput)


def test_blank_lines_are_skipped_but_counted_in_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(f"{line('a')}\n\n   \n{{bad\n{line('b')}\n", encoding="utf-8")
    with pytest.raises(BadInputFile) as caught:
        survey(path)
    assert [number for number, _ in caught.value.problems] == [4]


def test_a_byte_order_mark_and_crlf_line_ends_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + line("a").encode() + b"\r\n" + line("b").encode() + b"\r\n")
    assert survey(path) == {"a", "b"}


def test_an_empty_file_or_a_missing_one_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no requests"):
        survey(write(tmp_path / "in.jsonl"))
    with pytest.raises(InvalidInput, match="cannot read"):
        survey(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("body", [
    {"temperature": 0.2, "max_tokens": 5, "top_p": 1, "stop": ["x"], "seed": 1, "user": "u"},
    {"n": 1, "response_format": {"type": "text"}, "tool_choice": "none", "logprobs": False},
    {"tools": [], "stream": False, "modalities": ["text"]},
])
def test_parameters_that_do_not_change_the_answer_are_accepted(body: dict[str, Any]) -> None:
    assert isinstance(parse(line("a", body=body).encode()), BatchRequest)


def test_openai_message_shapes_are_accepted_as_the_client_accepts_them() -> None:
    messages = [{"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
                {"role": "user", "content": "Hi", "name": "ann"}]
    request = parse(line("a", body={"messages": messages}).encode())
    assert request.conversation.to_dicts() == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
    ]
