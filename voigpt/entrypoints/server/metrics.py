"""The server's Prometheus metrics (``GET /metrics``), in a registry of its own so that
several servers in one process (tests, embedding) never share counters.

Under ``voigpt serve --workers N`` they are the whole server's: the command gives the
workers a fresh directory in ``PROMETHEUS_MULTIPROC_DIR`` (``run.py``), prometheus-client
keeps each process's values in files there (its multiprocess mode, chosen when it is first
imported), and ``render`` sums every worker's files, whichever worker is asked. Completions
in flight add up over the live workers; the shared state is up only while it is up in
every one. A labelled series appears once some worker has counted it.

``ServerMetrics`` is also the use case's ``CompletionObserver``: it counts token fetches,
upstream latency and retries, and remembers when the site last handed out a token (what
``/health/ready`` reports). Labels come from short fixed sets, never from the request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

from voigpt.entrypoints.server.tallies import LATENCY, REQUESTS, Tallies

# The ``*_created`` series double the output and say nothing a scraper needs.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_directory() -> str | None:
    """The directory every worker's values are kept in, or None when this process keeps
    its own (prometheus-client chose when it was imported: the variable set or not)."""
    if values.ValueClass is values.MutexValue:
        return None
    directory = os.environ.get(MULTIPROC_DIR)
    if not directory:
        raise RuntimeError(f"prometheus-client is in multiprocess mode but {MULTIPROC_DIR} "
                           "is no longer set")
    return directory


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.directory = multiprocess_directory()
        # What every request moves: counted in plain Python in one process (tallies.py),
        # by prometheus-client's classes into their files under --workers.
        self._tallies = None if self.directory is not None else Tallies(LATENCY_BUCKETS)
        if self._tallies is not None:
            self.registry.register(self._tallies)
        else:  # each labelled child kept once looked up (labels() checks and locks)
            self.requests = Counter(*REQUESTS, ["route", "method", "status"],
                                    registry=self.registry)
            self.upstream_latency = Histogram(*LATENCY, ["outcome"], buckets=LATENCY_BUCKETS,
                                              registry=self.registry)
            self._answered: dict[tuple[str, str, int], Counter] = {}
            self._latency: dict[str, Histogram] = {}
        self.in_flight = Gauge(
            "voigpt_completions_in_flight", "Completions holding a concurrency slot.",
            registry=self.registry, multiprocess_mode="livesum",
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
            "unavailable); with --workers, 0 while any worker falls back.",
            registry=self.registry, multiprocess_mode="livemin",
        )
        self.state_up.set(1)
        self._state_healthy: Callable[[], bool] | None = None  # multiprocess mode only
        self._state_shown = True
        self.rejections = Counter(
            "voigpt_server_rejections",
            "Requests answered with an error, by cause (the error's code).",
            ["cause"], registry=self.registry,
        )
        self.last_token_at: float | None = None
        self._everyone: CollectorRegistry | None = None
        if self.directory is not None:  # what /metrics answers: every worker's files
            self._everyone = CollectorRegistry()
            MultiProcessCollector(self._everyone, path=self.directory)  # type: ignore[no-untyped-call]

    def follow_state(self, healthy: Callable[[], bool]) -> None:
        """``voigpt_state_up`` from ``healthy()``, read at each scrape. In multiprocess mode
        (no gauge function; a scrape reaches one worker) each worker writes its own when it
        changes, which only a request's calls do: checked after each answer, at each scrape
        this worker answers, and by ``check_state`` (after start-up)."""
        if self.directory is None:
            self.state_up.set_function(lambda: 1.0 if healthy() else 0.0)
            return
        self._state_healthy = healthy
        self.check_state()

    def follow_in_flight(self, count: Callable[[], int]) -> Gauge | None:
        """``voigpt_completions_in_flight`` from ``count()`` at each scrape; in multiprocess
        mode the gauge itself, which the caller moves with its count."""
        if self.directory is None:
            self.in_flight.set_function(count)
            return None
        return self.in_flight

    def check_state(self) -> None:
        """Multiprocess mode: write this worker's ``voigpt_state_up`` if it changed."""
        if self._state_healthy is None:
            return
        healthy = bool(self._state_healthy())
        if healthy != self._state_shown:
            self._state_shown = healthy
            self.state_up.set(1.0 if healthy else 0.0)

    def answered(self, route: str, method: str, status: int) -> None:
        """One HTTP answer. The labels are bounded: route templates, the methods httptools
        parses, status codes."""
        if self._tallies is not None:
            self._tallies.answered(route, method, status)
            return
        key = (route, method, status)
        child = self._answered.get(key)
        if child is None:
            child = self._answered[key] = self.requests.labels(route, method, str(status))
        child.inc()
        if self._state_healthy is not None:
            self.check_state()

    # CompletionObserver
    def token_fetched(self, seconds: float, error: BaseException | None) -> None:
        self.token_fetches.labels(_outcome(error)).inc()
        if error is None:
            self.last_token_at = time.monotonic()

    def sent(self, seconds: float, error: BaseException | None) -> None:
        outcome = _outcome(error)
        if self._tallies is not None:
            self._tallies.observe(outcome, seconds)
            return
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
        """The text ``/metrics`` answers: this server's registry, or, with ``--workers``,
        the sum of every worker's files."""
        if self._everyone is None:
            return generate_latest(self.registry)
        self.check_state()
        return generate_latest(self._everyone)


def _outcome(error: BaseException | None) -> str:
    return "ok" if error is None else type(error).__name__
