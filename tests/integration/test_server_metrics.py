"""``GET /metrics``: Prometheus text with requests by route and status, upstream latency
(a histogram by outcome), completions in flight, token fetches, retries and rejections by
cause, counted as real requests pass through a fresh server. Labels come from route
templates and fixed codes, never from what a request carries."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.messages import HELLO
from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault

REQUESTS = "voigpt_server_requests_total"
LATENCY = "voigpt_upstream_request_seconds"
REJECTIONS = "voigpt_server_rejections_total"


@pytest.fixture
def server(voigpt_emulator: Emulator) -> Iterator[Served]:
    """A fresh server (its own metrics) over a client that retries as configured by default."""
    client = AsyncClient(base_url=voigpt_emulator.url, timeout=5, environ={})
    with served(client) as running:
        yield running


def complete(server: Served, **body: Any) -> httpx.Response:
    return httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO, **body})


def test_metrics_are_prometheus_text_declaring_every_series(server: Served) -> None:
    response = httpx.get(server.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f.type for f in text_string_to_metric_families(response.text)}
    assert families == {
        "voigpt_server_requests": "counter",
        "voigpt_upstream_request_seconds": "histogram",
        "voigpt_completions_in_flight": "gauge",
        "voigpt_token_fetches": "counter",
        "voigpt_upstream_retries": "counter",
        "voigpt_server_rejections": "counter",
        "voigpt_model_reply_repairs": "counter",
        "voigpt_reply_cache_lookups": "counter",
        "voigpt_state_up": "gauge",
    }


def test_requests_are_counted_by_route_template_method_and_status(server: Served) -> None:
    assert complete(server).status_code == 200
    assert complete(server).status_code == 200
    assert complete(server, n=2).status_code == 400
    assert httpx.get(server.v1 + "/models/gpt-3.5-turbo").status_code == 200
    assert httpx.get(server.v1 + "/models/secret-model-name-1").status_code == 404
    assert httpx.get(server.url + "/no/such/path/abc123").status_code == 404
    assert httpx.get(server.v1 + "/chat/completions").status_code == 405
    route = "/v1/chat/completions"
    assert metric(server.url, REQUESTS, route=route, method="POST", status="200") == 2
    assert metric(server.url, REQUESTS, route=route, method="POST", status="400") == 1
    # served by FastAPI, not by the completion endpoint, and still under the route's name
    assert metric(server.url, REQUESTS, route=route, method="GET", status="405") == 1
    model = "/v1/models/{model_id}"
    assert metric(server.url, REQUESTS, route=model, method="GET", status="200") == 1
    assert metric(server.url, REQUESTS, route=model, method="GET", status="404") == 1
    assert metric(server.url, REQUESTS, route="unmatched", status="404") == 1
    text = httpx.get(server.url + "/metrics").text
    assert "secret-model-name-1" not in text and "abc123" not in text  # bounded labels


def test_upstream_latency_is_a_histogram_by_outcome(
    server: Served, voigpt_emulator: Emulator
) -> None:
    assert complete(server).status_code == 200
    voigpt_emulator.inject(Fault.HTML_INSTEAD_OF_JSON)
    assert complete(server).status_code == 502
    voigpt_emulator.inject(Fault.SLOW, delay=0.3)
    assert complete(server).status_code == 200
    assert metric(server.url, LATENCY + "_count", outcome="ok") == 2
    assert metric(server.url, LATENCY + "_count", outcome="MalformedReply") == 1
    assert metric(server.url, LATENCY + "_sum", outcome="ok") >= 0.3  # the slow one, timed
    assert metric(server.url, LATENCY + "_bucket", outcome="ok", le="0.25") == 1
    assert metric(server.url, LATENCY + "_bucket", outcome="ok", le="+Inf") == 2


def test_the_in_flight_gauge_counts_a_running_completion_and_returns_to_zero(
    server: Served, voigpt_emulator: Emulator
) -> None:
    assert metric(server.url, "voigpt_completions_in_flight") == 0
    voigpt_emulator.inject(Fault.SLOW, delay=0.5)
    voigpt_emulator.inject(Fault.SLOW, delay=0.5)
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(complete, server) for _ in range(2)]
        seen = wait_for_value(lambda: metric(server.url, "voigpt_completions_in_flight"), 2)
        assert seen == 2
        assert [r.result().status_code for r in running] == [200, 200]
    assert metric(server.url, "voigpt_completions_in_flight") == 0
    voigpt_emulator.inject(Fault.SERVER_ERROR, status=500)  # an error gives its slot back too
    assert complete(server).status_code == 503
    assert metric(server.url, "voigpt_completions_in_flight") == 0


def wait_for_value(read: Callable[[], float], wanted: float, timeout: float = 3) -> float:
    deadline = time.monotonic() + timeout
    value = read()
    while value != wanted and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value


def test_token_fetches_are_counted_once_per_token_and_by_outcome(
    server: Served, voigpt_emulator: Emulator
) -> None:
    for _ in range(3):
        assert complete(server).status_code == 200
    assert metric(server.url, "voigpt_token_fetches_total", outcome="ok") == 1  # cached
    voigpt_emulator.revoke_tokens()
    voigpt_emulator.inject(Fault.ANTI_BOT, endpoint="token")
    assert complete(server).status_code == 502
    assert metric(server.url, "voigpt_token_fetches_total", outcome="Blocked") == 1
    assert complete(server).status_code == 200
    assert metric(server.url, "voigpt_token_fetches_total", outcome="ok") == 2


def test_retries_of_the_site_are_counted_by_cause(
    server: Served, voigpt_emulator: Emulator
) -> None:
    voigpt_emulator.inject(Fault.SERVER_ERROR, status=503)
    assert complete(server).status_code == 200  # voigpt's own retry succeeded
    assert metric(server.url, "voigpt_upstream_retries_total", cause="ServiceUnavailable") == 1
    assert metric(server.url, "voigpt_upstream_retries_total") == 1
    assert metric(server.url, LATENCY + "_count", outcome="ServiceUnavailable") == 1


def test_rejections_are_counted_by_cause(voigpt_emulator: Emulator) -> None:
    client = AsyncClient(base_url=voigpt_emulator.url, retries=0, timeout=5, environ={})
    with served(client, api_keys=("sk-key",), max_body_bytes=2048) as server:
        key = {"authorization": "Bearer sk-key"}
        url = server.v1 + "/chat/completions"
        assert httpx.post(url, json={"messages": HELLO}).status_code == 401
        assert httpx.post(url, json={"messages": HELLO, "n": 2}, headers=key).status_code == 400
        assert httpx.post(url, json={"messages": []}, headers=key).status_code == 400
        assert httpx.post(url, json={"messages": HELLO, "model": "x"},
                          headers=key).status_code == 404
        assert httpx.post(url, content=b"x" * 4096, headers=key).status_code == 413
        voigpt_emulator.inject(Fault.RATE_LIMITED)
        assert httpx.post(url, json={"messages": HELLO}, headers=key).status_code == 429
        assert httpx.post(url, json={"messages": HELLO}, headers=key).status_code == 200
        counts = {cause: metric(server.url, REJECTIONS, cause=cause) for cause in (
            "invalid_api_key", "unsupported_parameter", "invalid_value", "model_not_found",
            "request_too_large", "rate_limit_exceeded")}
        assert counts == dict.fromkeys(counts, 1)
        assert metric(server.url, REJECTIONS) == 6  # the success is no rejection


def test_refused_requests_are_counted_under_the_route_they_were_for(
    voigpt_emulator: Emulator,
) -> None:
    """The gate answers 401 and 413 before routing; they are still labelled by the route
    the request was for, and an unknown path by "unmatched"."""
    client = AsyncClient(base_url=voigpt_emulator.url, environ={})
    with served(client, api_keys=("sk-k",), max_body_bytes=100) as server:
        assert complete(server).status_code == 401
        assert httpx.get(server.v1 + "/models/gpt-3.5-turbo").status_code == 401
        assert httpx.get(server.v1 + "/nope-abc123").status_code == 401
        assert httpx.get(server.v1 + "/chat/completions").status_code == 401
        too_big = httpx.post(server.v1 + "/chat/completions", content=b"{" * 200,
                             headers={"Authorization": "Bearer sk-k"})
        assert too_big.status_code == 413
        for route, method, status in [
            ("/v1/chat/completions", "POST", "401"), ("/v1/chat/completions", "GET", "401"),
            ("/v1/chat/completions", "POST", "413"), ("/v1/models/{model_id}", "GET", "401"),
            ("unmatched", "GET", "401"),
        ]:
            counted = metric(server.url, REQUESTS, route=route, method=method, status=status)
            assert counted == 1, (route, method, status, counted)
        assert "abc123" not in httpx.get(server.url + "/metrics").text
