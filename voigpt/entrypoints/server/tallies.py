"""The two metrics every request moves, in a process of its own: the answers by route,
method and status (``voigpt_server_requests_total``) and the upstream latency by outcome
(``voigpt_upstream_request_seconds``), counted in plain Python and handed to
prometheus-client at each scrape through a custom collector (``collect``), as its
documentation offers for values kept elsewhere.

prometheus-client's own ``Counter`` and ``Histogram`` take a lock per value and check
their state on every change: about 15k instructions of every request, 2% of its CPU, for
two numbers. Here a request adds to a dict entry and a list slot, on the event loop's
thread (the only one that counts them). The scrape shows the same families, names, help,
labels and buckets as those classes would (a test holds the two expositions equal).

Under ``--workers`` the classes themselves count, into their files (``metrics.py``): a
scrape reaches one worker and must read every worker's values.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

REQUESTS = ("voigpt_server_requests", "HTTP requests answered, by route and status.")
LATENCY = ("voigpt_upstream_request_seconds",
           "Seconds each chat request to the site took, by outcome.")


class Tallies:
    """Counts of answers and upstream latencies; a prometheus-client collector."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self._bounds = tuple(float(bound) for bound in buckets)
        self._le = [*(floatToGoString(bound) for bound in self._bounds),  # type: ignore[no-untyped-call]
                    "+Inf"]
        self._answers: dict[tuple[str, str, int], int] = {}
        self._latency: dict[str, list[float]] = {}  # per bucket, then the sum

    def answered(self, route: str, method: str, status: int) -> None:
        key = (route, method, status)
        self._answers[key] = self._answers.get(key, 0) + 1

    def observe(self, outcome: str, seconds: float) -> None:
        counts = self._latency.get(outcome)
        if counts is None:
            counts = self._latency[outcome] = [0.0] * (len(self._bounds) + 2)
        counts[bisect.bisect_left(self._bounds, seconds)] += 1  # the first bound >= seconds
        counts[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests, latency = _families()
        for (route, method, status), count in list(self._answers.items()):
            requests.add_metric([route, method, str(status)], count)
        for outcome, counts in list(self._latency.items()):
            cumulative = itertools.accumulate(counts[:-1])
            latency.add_metric([outcome], list(zip(self._le, cumulative, strict=True)),
                               counts[-1])
        return iter((requests, latency))

    def describe(self) -> Iterator[Metric]:
        """The families, without samples: what the registry checks names against."""
        return iter(_families())


def _families() -> tuple[CounterMetricFamily, HistogramMetricFamily]:
    return (CounterMetricFamily(*REQUESTS, labels=["route", "method", "status"]),
            HistogramMetricFamily(*LATENCY, labels=["outcome"]))
