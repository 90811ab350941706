"""The server section of the benchmark harness, on made-up figures: which targets hold, what
counts as a correctness failure, and how the load generator tells a right answer."""

from __future__ import annotations

import json

from benchmarks.clients import EXPECTED
from benchmarks.report import MB, Report
from benchmarks.server import (
    EMULATOR,
    FLOOR,
    RESPONSES,
    SERVE,
    STAND_IN,
    Burst,
    Growth,
    Latency,
    Rate,
    ServerRun,
)
from benchmarks.server_load import (
    chat_completions,
    check_completion,
    check_response,
    responses_create,
)


def rate(key: str, upstream: str, per_second: float, errors: int = 0) -> Rate:
    return Rate(key, f"({key})", upstream, per_second, cpu=1e-4, upstream_cpu=3e-5,
                requests=1000, errors=errors, first_error="HTTP 500" if errors else "")


def run(*, serve_rate: float = 1500.0, responses_rate: float = 1400.0, serve_wall: float = 1.2,
        serve_latency: float = 1.4e-3, growth: int = 2 * MB, tokens: int = 1) -> ServerRun:
    return ServerRun(
        rates=[rate(FLOOR, STAND_IN, 2000.0), rate(SERVE, STAND_IN, serve_rate),
               rate(RESPONSES, STAND_IN, responses_rate),
               rate(FLOOR, EMULATOR, 1000.0), rate(SERVE, EMULATOR, 100.0)],
        latencies={FLOOR: Latency(FLOOR, "(i)", 0.5e-3, 0.7e-3, 100),
                   SERVE: Latency(SERVE, "(j)", serve_latency, 2e-3, 100)},
        bursts=[Burst(FLOOR, "(i)", 256, 1.0, 9.0), Burst(SERVE, "(j)", 256, 1.0, serve_wall)],
        memory=[Growth(SERVE, "(j)", 20_000, 80 * MB, 80 * MB + growth),
                Growth(FLOOR, "(i)", 20_000, 40 * MB, 99 * MB)],
        token_fetches=tokens,
    )


def verdicts(server_run: ServerRun) -> dict[str, tuple[float, bool]]:
    return {t.figure: (round(t.value, 3), t.met) for t in server_run.targets()}


def test_each_server_target_is_judged_against_its_limit() -> None:
    assert verdicts(run()) == {
        # 1500 / 2000 on the stand-in; the emulator pair (0.1x) is shown, not judged
        "(j)/(i) requests/s, 32 clients, stand-in upstream": (0.75, True),
        # 1400 / 1500: the Responses route against the chat route of the same process
        "(j) responses / (j) chat requests/s, 32 clients, stand-in upstream": (0.933, True),
        "(j) 256 clients at once, 1 s service, --max-concurrency 512: wall": (1.2, True),
        "(j) - (i) median latency, 1 client": (0.9, True),  # 1.4 ms - 0.5 ms
        "(j) RSS growth, 20,000 requests": (2.0, True),  # the floor's growth is not judged
    }


def test_a_slow_server_misses_each_target() -> None:
    missed = run(serve_rate=1300.0, responses_rate=1100.0, serve_wall=1.6,
                 serve_latency=1.6e-3, growth=11 * MB)
    assert [met for _, met in verdicts(missed).values()] == [False] * 5


def test_the_report_holds_the_section_to_its_targets_and_failures() -> None:
    report = Report(machine="test", sizes={},
                    server=run(serve_rate=1000.0, responses_rate=950.0, tokens=2))
    assert [t.figure for t in report.missed_targets()] == [
        "(j)/(i) requests/s, 32 clients, stand-in upstream"]
    assert report.correctness_failures() == ["voigpt serve fetched 2 tokens, not 1"]
    assert "| (j) | stand-in | 1,000 | 0.50x | 100 µs | 0.10 cores | 30 µs | 0 |" in report.render()


def test_wrong_answers_are_correctness_failures() -> None:
    server_run = run()
    server_run.rates[1] = rate(SERVE, STAND_IN, 1500.0, errors=3)
    server_run.rates[2] = rate(RESPONSES, STAND_IN, 1400.0, errors=1)
    assert server_run.failures() == [
        "(j) (rate): 3 wrong answers or errors, the first HTTP 500",
        "(j-responses) (rate): 1 wrong answers or errors, the first HTTP 500"]


def test_a_completion_is_right_only_with_status_200_and_the_expected_reply() -> None:
    answer = {"choices": [{"message": {"role": "assistant", "content": EXPECTED}}]}
    assert check_completion(200, json.dumps(answer).encode()) is None
    assert check_completion(429, json.dumps(answer).encode()) is not None
    answer["choices"][0]["message"]["content"] = "something else"
    assert check_completion(200, json.dumps(answer).encode()) is not None
    assert check_completion(200, b"<html>") is not None


def test_the_load_request_is_a_whole_http_request() -> None:
    request = chat_completions("http://127.0.0.1:8080").request
    head, _, body = request.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body)["messages"] == [{"role": "user", "content": "ping"}]


def test_a_response_is_right_only_stored_completed_with_status_200_and_the_expected_reply() -> None:
    answer = {"object": "response", "status": "completed", "store": True, "output": [
        {"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": EXPECTED, "annotations": []}]}]}
    assert check_response(200, json.dumps(answer).encode()) is None
    assert check_response(500, json.dumps(answer).encode()) is not None
    assert check_response(200, json.dumps({**answer, "store": False}).encode()) is not None
    assert check_response(200, json.dumps({**answer, "output": []}).encode()) is not None
    answer["output"][0]["content"][0]["text"] = "something else"
    assert check_response(200, json.dumps(answer).encode()) is not None
    assert check_response(200, b"<html>") is not None


def test_the_responses_load_request_leaves_store_to_its_default() -> None:
    request = responses_create("http://127.0.0.1:8080").request
    head, _, body = request.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body) == {"model": "gpt-3.5-turbo", "input": "ping"}
