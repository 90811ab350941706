"""``voigpt.batch`` over real HTTP (aiohttp) against the emulator: results in the shape
``voigpt serve`` answers, faults to ERRORS and back to OUTPUT on the next run, bad input
sending nothing, and a 429 slowing the whole run."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import voigpt.batch
from voigpt.domain.values import Completion, Conversation
from voigpt.emulator import Emulator, Fault, RecordedRequest, reply_for
from voigpt.entrypoints.openai_format import chat_completion


def write_input(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({
        "custom_id": f"id-{n}", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "temperature": 0.3,
                 "messages": [{"role": "system", "content": "Be brief."},
                              {"role": "user", "content": f"question {n}"}]},
    }) + "\n" for n in range(count)), encoding="utf-8")
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def ids(path: Path) -> list[str]:
    return [document["custom_id"] for document in lines(path)]


def test_every_id_is_answered_once_in_the_servers_chat_completion_shape(
    voigpt_emulator: Emulator, tmp_path: Path
) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 50), tmp_path / "out.jsonl"
    summary = voigpt.batch.run(source, output, base_url=voigpt_emulator.url, concurrency=8)
    assert summary.exit_code == 0 and summary.done == 50
    assert sorted(ids(output)) == sorted(f"id-{n}" for n in range(50))
    assert voigpt_emulator.completions == 50 and len(voigpt_emulator.tokens_issued) == 1

    line = next(d for d in lines(output) if d["custom_id"] == "id-7")
    assert set(line) == {"id", "custom_id", "response", "error"} and line["error"] is None
    assert line["id"].startswith("batch_req_")
    assert line["response"]["status_code"] == 200
    assert line["response"]["request_id"].startswith("req_")
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "question 7"}]
    reply = reply_for(messages)
    expected = chat_completion(Conversation.from_dicts(messages),
                               Completion(reply, "gpt-4o-mini"), id="x", created=0)
    body = line["response"]["body"]
    assert body["id"].startswith("chatcmpl-") and isinstance(body["created"], int)
    assert {**body, "id": "x", "created": 0} == expected


def test_faults_land_in_errors_and_the_next_run_moves_them_to_output(
    voigpt_emulator: Emulator, tmp_path: Path
) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 40), tmp_path / "out.jsonl"
    voigpt_emulator.inject(Fault.SERVER_ERROR, times=2, status=500)  # never retried
    voigpt_emulator.inject(Fault.HTML_INSTEAD_OF_JSON, times=1)
    first = voigpt.batch.run(source, output, base_url=voigpt_emulator.url, concurrency=4)
    errors = lines(tmp_path / "out.errors.jsonl")
    assert (first.exit_code, first.done, first.failed) == (1, 37, 3)
    assert sorted(e["error"]["code"] for e in errors) == [
        "malformed_reply", "service_unavailable", "service_unavailable"]
    failed = {e["custom_id"] for e in errors}
    assert failed.isdisjoint(ids(output)) and len(ids(output)) == 37

    answered = voigpt_emulator.completions
    second = voigpt.batch.run(source, output, base_url=voigpt_emulator.url, concurrency=4)
    assert (second.exit_code, second.succeeded) == (0, 3)
    assert voigpt_emulator.completions - answered == 3  # only the failed ones again
    assert sorted(ids(output)) == sorted(f"id-{n}" for n in range(40))
    assert set(ids(output)[-3:]) == failed
    assert not (tmp_path / "out.errors.jsonl").exists()


def test_bad_input_sends_no_request_at_all(voigpt_emulator: Emulator, tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", 500)
    with source.open("a") as file:
        file.write('{"custom_id": "id-3", "method": "POST"}\n')
    try:
        voigpt.batch.run(source, tmp_path / "out.jsonl", base_url=voigpt_emulator.url)
    except voigpt.batch.BadInputFile as exc:
        assert [number for number, _ in exc.problems] == [501]
    else:
        raise AssertionError("bad input was accepted")
    assert voigpt_emulator.totals.requests == 0
    assert not (tmp_path / "out.jsonl").exists()


def test_a_429_slows_the_whole_run_not_just_its_request(tmp_path: Path) -> None:
    """The first request gets a 429 (Retry-After: 1) and is retried by the client itself;
    the run starts nothing new meanwhile, although three slots are free."""
    arrivals: list[float] = []
    lock = threading.Lock()

    def arrived(request: RecordedRequest) -> None:
        if request.method == "POST":
            with lock:
                arrivals.append(time.monotonic())

    source, output = write_input(tmp_path / "in.jsonl", 16), tmp_path / "out.jsonl"
    with Emulator(observer=arrived) as emulator:
        emulator.inject(Fault.RATE_LIMITED, times=1, retry_after="1")
        emulator.inject(Fault.SLOW, times=None, delay=0.05)
        summary = voigpt.batch.run(source, output, base_url=emulator.url, concurrency=4)
    assert summary.exit_code == 0 and len(ids(output)) == 16
    first = arrivals[0]
    during_the_pause = [t - first for t in arrivals if t - first < 0.9]
    assert len(during_the_pause) == 4, during_the_pause  # the first wave, nothing after
    assert len(arrivals) == 17  # 16 and the retry
