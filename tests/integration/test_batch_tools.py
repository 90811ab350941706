"""``voigpt.batch`` with lines that ask for tools or a JSON format, over real HTTP against the
emulator scripted with what the model answers: tool calls and structured answers written in
the very ``chat.completion`` shape ``voigpt serve`` answers, a reply unusable twice failing
as its line's ``invalid_model_reply``, and plain lines sent as they always were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import voigpt.batch
from voigpt.domain.tools.values import ToolCall
from voigpt.domain.values import Completion, Conversation
from voigpt.emulator import Emulator, reply_for
from voigpt.entrypoints.batch.parsing import parse
from voigpt.entrypoints.openai_format import chat_completion

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
COUNT = {"type": "json_schema", "json_schema": {"name": "Count", "strict": True, "schema": {
    "type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}}
QUESTION = [{"role": "user", "content": "Weather in Paris?"}]


def entry(custom_id: str, **body: Any) -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                       "body": {"model": "gpt-4o-mini", "messages": QUESTION, **body}})


def run(tmp_path: Path, emulator: Emulator, *entries: str) -> dict[str, dict[str, Any]]:
    """Run the lines one at a time (so the queued replies go to them in order); every
    line written, OUTPUT and ERRORS together, by custom_id."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(f"{text}\n" for text in entries), encoding="utf-8")
    voigpt.batch.run(source, tmp_path / "out.jsonl", base_url=emulator.url, concurrency=1)
    written: dict[str, dict[str, Any]] = {}
    for name in ("out.jsonl", "out.errors.jsonl"):
        path = tmp_path / name
        if path.exists():
            for text in path.read_text(encoding="utf-8").splitlines():
                document = json.loads(text)
                written[document["custom_id"]] = document
    return written


def sent(emulator: Emulator) -> list[list[dict[str, str]]]:
    """The messages of each completion the site was asked for, in order."""
    return [request.json()["messages"] for request in emulator.requests
            if request.method == "POST" and request.path.startswith("/generate_response")]


def test_a_tool_call_is_written_as_the_servers_chat_completion_with_tool_calls(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.queue_replies('Sure.\n```json\n{"name": "get_weather", '
                           '"arguments": {"city": "Paris"}}\n```')
    written = run(tmp_path, emulator, entry("w", tools=[WEATHER], tool_choice="auto"))
    line = written["w"]
    assert line["error"] is None and line["response"]["status_code"] == 200
    body = line["response"]["body"]
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    # The same bytes voigpt serve's chat route builds from the same completion, usage
    # counting what the site was sent (the instructions too).
    [messages] = sent(emulator)
    completion = Completion("", "gpt-4o-mini", tool_calls=(
        ToolCall(call["id"], "get_weather", call["function"]["arguments"]),))
    expected = chat_completion(Conversation.from_dicts(messages), completion, id="x", created=0)
    assert {**body, "id": "x", "created": 0} == expected

    assert messages[0] == QUESTION[0]
    assert messages[-1]["role"] == "system" and "get_weather" in messages[-1]["content"]
    assert '"required":["city"]' in messages[-1]["content"]


def test_a_structured_answer_is_its_json_text_and_a_plain_line_is_sent_as_before(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.queue_replies('Here it is: {"n": 3} Hope that helps.')
    written = run(tmp_path, emulator, entry("s", response_format=COUNT), entry("plain"))
    structured = written["s"]["response"]["body"]["choices"][0]
    assert structured["finish_reason"] == "stop"
    assert json.loads(structured["message"]["content"]) == {"n": 3}
    plain = written["plain"]["response"]["body"]["choices"][0]
    assert plain["message"]["content"] == reply_for(QUESTION)
    with_format, without = sent(emulator)
    assert with_format[-1]["role"] == "system" and '"Count"' not in without[-1]["content"]
    assert '"required":["n"]' in with_format[-1]["content"]
    assert without == QUESTION  # nothing added when nothing is asked


def test_one_bad_reply_is_repaired_and_two_fail_the_line_as_invalid_model_reply(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.queue_replies('{"n": "three"}', '{"n": 3}',  # line "fixed": repaired once
                           '{"n": "three"}', "I cannot count.")  # line "broken": twice bad
    written = run(tmp_path, emulator, entry("fixed", response_format=COUNT),
                  entry("broken", response_format=COUNT), entry("after"))
    fixed = written["fixed"]["response"]["body"]["choices"][0]["message"]
    assert json.loads(fixed["content"]) == {"n": 3}
    broken = written["broken"]
    assert broken["response"] is None and broken["error"]["code"] == "invalid_model_reply"
    assert broken["error"]["message"]
    assert written["after"]["error"] is None  # the run goes on after a failed line
    asked = sent(emulator)
    assert len(asked) == 5 and emulator.replies_pending == 0
    assert asked[1][-1]["role"] == "user"  # the correction, after the bad reply
    assert asked[1][-2] == {"role": "assistant", "content": '{"n": "three"}'}
    errors = (tmp_path / "out.errors.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(text)["custom_id"] for text in errors] == ["broken"]


def test_history_with_tool_calls_and_results_reaches_the_site_as_text(
    emulator: Emulator, tmp_path: Path
) -> None:
    history = [*QUESTION,
               {"role": "assistant", "content": None, "tool_calls": [{
                   "id": "call_7", "type": "function",
                   "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
               {"role": "tool", "tool_call_id": "call_7", "content": "18 C, sunny"}]
    emulator.queue_replies("It is 18 C and sunny in Paris.")
    written = run(tmp_path, emulator, entry("h", messages=history, tools=[WEATHER]))
    answer = written["h"]["response"]["body"]["choices"][0]
    assert answer["message"]["content"] == "It is 18 C and sunny in Paris."
    assert answer["finish_reason"] == "stop"
    [messages] = sent(emulator)
    request = parse(entry("h", messages=history, tools=[WEATHER]).encode())
    assert messages[:3] == request.conversation.to_dicts()
    assert "call_7" in messages[2]["content"] and "18 C, sunny" in messages[2]["content"]
