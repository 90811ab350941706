"""The server's Prometheus metrics (``GET /metrics``), in a registry of its own so that
several servers in one process (tests, embedding) never share counters.

``ServerMetrics`` is also the use case's ``CompletionObserver``: it counts token fetches,
upstream latency and retries as the completions happen, and remembers when the site last
handed out a token, which is what ``/health/ready`` reports. Label values come from short
fixed sets (route templates, status codes, error class names), never from the request.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# The ``*_created`` series double the output and say nothing a scraper needs.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "voigpt_server_requests", "HTTP requests answered, by route and status.",
            ["route", "method", "status"], registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "voigpt_upstream_request_seconds",
            "Seconds each chat request to the site took, by outcome.",
            ["outcome"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge(
            "voigpt_completions_in_flight", "Completions holding a concurrency slot.",
            registry=self.registry,
        )
        self.token_fetches = Counter(
            "voigpt_token_fetches", "Token requests to the site, by outcome.",
            ["outcome"], registry=self.registry,
        )
        self.retries = Counter(
            "voigpt_upstream_retries", "Retries of failed upstream requests, by cause.",
            ["cause"], registry=self.registry,
        )
        self.repairs = Counter(
            "voigpt_model_reply_repairs",
            "Replies that did not fit the tools or JSON format asked for, and were sent one "
            "correction (each correction is also an upstream request).",
            registry=self.registry,
        )
        self.reply_cache = Counter(
            "voigpt_reply_cache_lookups",
            "Lookups of the reply cache (--cache-ttl), by outcome: hit or miss.",
            ["outcome"], registry=self.registry,
        )
        self._cache_hit = self.reply_cache.labels("hit")
        self._cache_miss = self.reply_cache.labels("miss")
        self.state_up = Gauge(
            "voigpt_state_up",
            "1 while the shared state (--state) answers; 0 while this process falls back to "
            "its own memory (its pace is its own, stored responses and the cache are "
            "unavailable).", registry=self.registry,
        )
        self.state_up.set(1)
        self.rejections = Counter(
            "voigpt_server_rejections",
            "Requests answered with an error, by cause (the error's code).",
            ["cause"], registry=self.registry,
        )
        self.last_token_at: float | None = None
        # Each labelled child, once looked up (``labels()`` checks and locks every time).
        self._answered: dict[tuple[str, str, int], Counter] = {}
        self._latency: dict[str, Histogram] = {}

    def answered(self, route: str, method: str, status: int) -> None:
        """One HTTP answer. The labels are bounded: route templates, the methods httptools
        parses, status codes."""
        key = (route, method, status)
        child = self._answered.get(key)
        if child is None:
            child = self._answered[key] = self.requests.labels(route, method, str(status))
        child.inc()

    # CompletionObserver
    def token_fetched(self, seconds: float, error: BaseException | None) -> None:
        self.token_fetches.labels(_outcome(error)).inc()
        if error is None:
            self.last_token_at = time.monotonic()

    def sent(self, seconds: float, error: BaseException | None) -> None:
        outcome = _outcome(error)
        child = self._latency.get(outcome)
        if child is None:
            child = self._latency[outcome] = self.upstream_latency.labels(outcome)
        child.observe(seconds)

    def retrying(self, error: Exception, pause: float) -> None:
        self.retries.labels(type(error).__name__).inc()

    def cache_lookup(self, hit: bool) -> None:
        (self._cache_hit if hit else self._cache_miss).inc()

    def repairing(self, problem: str) -> None:
        self.repairs.inc()

    def rejected(self, cause: str | None) -> None:
        self.rejections.labels(cause or "unknown").inc()

    def token_age(self) -> float | None:
        """Seconds since the site last handed out a token, or None if it never did."""
        return None if self.last_token_at is None else time.monotonic() - self.last_token_at

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _outcome(error: BaseException | None) -> str:
    return "ok" if error is None else type(error).__name__
