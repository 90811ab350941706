"""The two metrics a ``voigpt serve`` process counts in plain Python (``tallies.py``) read
at a scrape exactly as prometheus-client's own ``Counter`` and ``Histogram`` would have
shown the same answers and latencies: names, help, labels, buckets, counts and sums."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from voigpt.entrypoints.server.metrics import LATENCY_BUCKETS, ServerMetrics
from voigpt.entrypoints.server.tallies import LATENCY, REQUESTS, Tallies

ROUTES = st.sampled_from(["/v1/chat/completions", "/v1/messages", "unmatched", "/health"])
ANSWERS = st.tuples(ROUTES, st.sampled_from(["GET", "POST"]),
                    st.sampled_from([200, 400, 404, 429, 499, 500]))
# Every bound exactly (the bucket includes it), around them, and past the last.
SECONDS = st.sampled_from([0.0, *LATENCY_BUCKETS, 1e-9, 0.0051, 7.5, 121.0, 1e6]) | st.floats(
    min_value=0, max_value=200, allow_nan=False)
SENDS = st.tuples(st.sampled_from(["ok", "TimedOut", "ConnectionFailed"]), SECONDS)


def expositions(answers: list[tuple[str, str, int]],
                sends: list[tuple[str, float]]) -> tuple[str, str]:
    tallied, native = CollectorRegistry(auto_describe=True), CollectorRegistry()
    tallies = Tallies(LATENCY_BUCKETS)
    tallied.register(tallies)
    requests = Counter(*REQUESTS, ["route", "method", "status"], registry=native)
    latency = Histogram(*LATENCY, ["outcome"], buckets=LATENCY_BUCKETS, registry=native)
    for route, method, status in answers:
        tallies.answered(route, method, status)
        requests.labels(route, method, str(status)).inc()
    for outcome, seconds in sends:
        tallies.observe(outcome, seconds)
        latency.labels(outcome).observe(seconds)
    return generate_latest(tallied).decode(), generate_latest(native).decode()


@given(st.lists(ANSWERS, max_size=30), st.lists(SENDS, max_size=30))
def test_a_scrape_shows_what_prometheus_clients_own_classes_would(
    answers: list[tuple[str, str, int]], sends: list[tuple[str, float]],
) -> None:
    tallied, native = expositions(answers, sends)
    assert tallied == native


def test_a_latency_on_a_bound_is_counted_in_that_bound_s_bucket() -> None:
    tallied, _ = expositions([], [("ok", 0.005), ("ok", 0.0050001)])
    assert 'voigpt_upstream_request_seconds_bucket{le="0.005",outcome="ok"} 1.0' in tallied
    assert 'voigpt_upstream_request_seconds_bucket{le="0.01",outcome="ok"} 2.0' in tallied


def test_a_server_in_its_own_process_counts_into_the_tallies() -> None:
    metrics = ServerMetrics()
    metrics.answered("/v1/chat/completions", "POST", 200)
    metrics.sent(0.3, None)
    text = metrics.render().decode()
    assert ('voigpt_server_requests_total{method="POST",route="/v1/chat/completions",'
            'status="200"} 1.0') in text
    assert 'voigpt_upstream_request_seconds_count{outcome="ok"} 1.0' in text
    assert 'voigpt_upstream_request_seconds_sum{outcome="ok"} 0.3' in text
