"""The runner on the real client, use case and container, with an in-memory transport (no
sockets): every id ends up exactly once in OUTPUT or in this run's ERRORS, a 429 pauses the
whole run, a stop loses nothing, and a failed write stops the run with OUTPUT whole."""

from __future__ import annotations

import asyncio
import errno
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import voigpt.batch
from voigpt import AsyncClient, build_container
from voigpt.domain.errors import InvalidConfig, RateLimited, ServiceUnavailable
from voigpt.domain.values import AccessToken, Conversation
from voigpt.entrypoints.batch.journal import Journal
from voigpt.testing import AsyncFakeChatTransport

Handler = Callable[[Conversation, AccessToken], str]


def client_with(transport: Any) -> AsyncClient:
    container = build_container(backend="fake", retries=0, environ={})
    container.async_transport.override(transport)
    return AsyncClient(container=container)


def write_input(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({
        "custom_id": f"id-{n}", "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": [{"role": "user", "content": f"q{n}"}]},
    }) + "\n" for n in range(count)), encoding="utf-8")
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def ids(path: Path) -> list[str]:
    return [document["custom_id"] for document in lines(path)] if path.exists() else []


def failing_on(numbers: set[int]) -> Handler:
    def handler(conversation: Conversation, token: AccessToken) -> str:
        asked = conversation.messages[-1].content
        if int(asked[1:]) in numbers:
            raise ServiceUnavailable("HTTP 500 from the site", status=500)
        return f"answer to {asked}"
    return handler


def test_every_id_is_written_once_as_a_chat_completion(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 40), tmp_path / "out.jsonl"
    transport = AsyncFakeChatTransport(handler=failing_on(set()))
    summary = voigpt.batch.run(source, output, client=client_with(transport), concurrency=4)
    assert sorted(ids(output)) == sorted(f"id-{n}" for n in range(40))
    assert (summary.exit_code, summary.done, summary.failed) == (0, 40, 0)
    first = next(d for d in lines(output) if d["custom_id"] == "id-3")
    assert first["error"] is None and first["response"]["status_code"] == 200
    body = first["response"]["body"]
    assert body["object"] == "chat.completion" and body["model"] == "m"
    assert body["choices"][0]["message"]["content"] == "answer to q3"
    assert not summary.errors.exists()


def test_failures_go_to_errors_and_a_second_run_moves_them_to_output(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 30), tmp_path / "out.jsonl"
    broken = AsyncFakeChatTransport(handler=failing_on({4, 17}))
    first = voigpt.batch.run(source, output, client=client_with(broken), concurrency=4)
    assert (first.exit_code, first.done, first.failed) == (1, 28, 2)
    errors = lines(tmp_path / "out.errors.jsonl")
    assert sorted(e["custom_id"] for e in errors) == ["id-17", "id-4"]
    assert {e["error"]["code"] for e in errors} == {"service_unavailable"}
    assert all(e["response"] is None and "HTTP 500" in e["error"]["message"] for e in errors)
    assert "2 failed (see " in first.line() and "out.errors.jsonl" in first.line()

    healed = AsyncFakeChatTransport(handler=failing_on(set()))
    second = voigpt.batch.run(source, output, client=client_with(healed), concurrency=4)
    assert sorted(m.conversation.messages[-1].content for m in healed.sent) == ["q17", "q4"]
    assert (second.exit_code, second.done, second.succeeded) == (0, 30, 2)
    assert sorted(ids(output)) == sorted(f"id-{n}" for n in range(30))
    assert not (tmp_path / "out.errors.jsonl").exists()


def test_a_429_pauses_the_starts_of_the_whole_run(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 12), tmp_path / "out.jsonl"
    sent_at: list[float] = []

    def handler(conversation: Conversation, token: AccessToken) -> str:
        sent_at.append(asyncio.get_running_loop().time())
        if len(sent_at) == 1:
            raise RateLimited("HTTP 429", retry_after=0.4)
        return "ok"

    summary = voigpt.batch.run(source, output, concurrency=4,
                               client=client_with(AsyncFakeChatTransport(handler=handler)))
    assert summary.exit_code == 0 and len(ids(output)) == 12
    first = sent_at[0]
    assert len(sent_at) == 13  # the 429'd request, sent again after the pause
    assert [t - first < 0.3 for t in sent_at].count(True) == 4  # only the first wave


def test_a_stop_loses_nothing_and_the_next_run_finishes(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 60), tmp_path / "out.jsonl"

    async def first_run() -> voigpt.batch.BatchSummary:
        stop = asyncio.Event()

        def progress(seen: voigpt.batch.BatchProgress) -> None:
            if seen.succeeded >= 10:
                stop.set()

        return await voigpt.batch.arun(
            source, output, concurrency=3, progress=progress, stop=stop,
            client=client_with(AsyncFakeChatTransport(handler=failing_on(set()))))

    stopped = asyncio.run(first_run())
    assert stopped.interrupted and stopped.exit_code == 130
    assert 10 <= len(ids(output)) == stopped.done < 60
    assert stopped.remaining == 60 - stopped.done
    transport = AsyncFakeChatTransport(handler=failing_on(set()))
    finished = voigpt.batch.run(source, output, client=client_with(transport))
    assert finished.exit_code == 0 and len(transport.sent) == 60 - stopped.done
    assert sorted(ids(output)) == sorted(f"id-{n}" for n in range(60))


class Stuck:
    """A transport whose requests never come back."""

    async def send(self, conversation: Conversation, token: AccessToken, **_: object) -> str:
        await asyncio.sleep(3600)
        return "never"


def test_after_a_stop_requests_in_flight_get_the_grace_then_are_cancelled(
    tmp_path: Path,
) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 10), tmp_path / "out.jsonl"

    async def scenario() -> tuple[voigpt.batch.BatchSummary, float]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, stop.set)
        started = loop.time()
        summary = await voigpt.batch.arun(source, output, client=client_with(Stuck()),
                                          concurrency=4, stop=stop, grace=0.2)
        return summary, loop.time() - started

    summary, took = asyncio.run(scenario())
    assert summary.interrupted and summary.remaining == 10 and ids(output) == []
    assert 0.3 <= took < 2.0


def test_a_failed_write_stops_the_run_and_output_stays_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 30), tmp_path / "out.jsonl"
    real_append, appended = Journal.append, []

    def fills_up(self: Journal, line: bytes) -> None:
        if len(appended) == 7:
            raise OSError(errno.ENOSPC, "No space left on device")
        appended.append(line)
        real_append(self, line)

    monkeypatch.setattr(Journal, "append", fills_up)
    transport = AsyncFakeChatTransport(handler=failing_on(set()))
    with pytest.raises(voigpt.batch.WriteFailed) as caught:
        voigpt.batch.run(source, output, client=client_with(transport), concurrency=4)
    assert caught.value.errno == errno.ENOSPC and caught.value.path == output
    assert caught.value.summary.done == 7 and len(ids(output)) == 7
    assert len(transport.sent) <= 7 + 4  # it stopped starting requests at once
    monkeypatch.undo()
    voigpt.batch.run(source, output, client=client_with(AsyncFakeChatTransport()))
    assert sorted(ids(output)) == sorted(f"id-{n}" for n in range(30))


def test_error_messages_are_scrubbed_of_secrets(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 1), tmp_path / "out.jsonl"
    leaky = AsyncFakeChatTransport([ServiceUnavailable("echoed Cookie: csrftoken=s3cr3tvalue")])
    voigpt.batch.run(source, output, client=client_with(leaky))
    message = lines(tmp_path / "out.errors.jsonl")[0]["error"]["message"]
    assert "s3cr3tvalue" not in message and message.endswith("***")


def test_progress_is_reported_up_to_the_last_result(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 20), tmp_path / "out.jsonl"
    seen: list[voigpt.batch.BatchProgress] = []
    voigpt.batch.run(source, output, progress=seen.append, client=client_with(
        AsyncFakeChatTransport(handler=failing_on({5}))))
    assert (seen[-1].done, seen[-1].failed, seen[-1].remaining) == (19, 1, 0)
    assert [p.done + p.failed for p in seen] == sorted(p.done + p.failed for p in seen)


@pytest.mark.parametrize(("keywords", "error"), [
    ({"concurrency": 0}, InvalidConfig), ({"rate": 0}, InvalidConfig),
    ({"rate": float("nan")}, InvalidConfig), ({"timeout": "soon"}, InvalidConfig),
])
def test_bad_settings_are_refused_before_any_file_is_touched(
    tmp_path: Path, keywords: dict[str, Any], error: type[Exception]
) -> None:
    source = write_input(tmp_path / "in.jsonl", 1)
    with pytest.raises(error):
        voigpt.batch.run(source, tmp_path / "out.jsonl", backend="fake", **keywords)
    assert not (tmp_path / "out.jsonl").exists()


def test_client_and_settings_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="either client= or settings"):
        voigpt.batch.run(tmp_path / "in", tmp_path / "out", backend="fake",
                         client=client_with(AsyncFakeChatTransport()))
