"""Keep-alive throughput of the voigpt emulator on loopback.

    python benchmarks/emulator_keepalive.py [--n N]

Starts the emulator, fetches a CSRF token, then makes N sequential completions over one
keep-alive connection, first with a ``requests.Session`` and then with a raw
``http.client.HTTPConnection``. Prints completions/second and the median latency of each, and
whether the target (>= 500 completions/s) held. Exits 0 either way, 1 on an error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_PER_SECOND = 500.0
MESSAGES = [{"role": "user", "content": "ping"}]


def _import_emulator() -> Any:
    """``voigpt.emulator``, from the repository when the package is not installed."""
    try:
        import voigpt.emulator as emulator
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import voigpt.emulator as emulator
    return emulator


def _measure(n: int, call: Callable[[], str], expected: str) -> tuple[float, float]:
    """(completions per second, median seconds per call) over ``n`` checked calls."""
    durations = []
    started = time.perf_counter()
    for _ in range(n):
        before = time.perf_counter()
        reply = call()
        durations.append(time.perf_counter() - before)
        if reply != expected:
            raise RuntimeError(f"unexpected reply {reply!r}")
    elapsed = time.perf_counter() - started
    return n / elapsed, statistics.median(durations)


def _with_requests(url: str, token: str) -> Callable[[], str]:
    import requests

    session = requests.Session()
    headers = {"Cookie": f"csrftoken={token}", "X-CSRFToken": token, "Origin": url,
               "Referer": url + "/"}

    def call() -> str:
        response = session.post(
            url + "/generate_response/", headers=headers, json={"messages": MESSAGES}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["response"])

    return call


def _with_http_client(host: str, port: int, token: str) -> Callable[[], str]:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    body = json.dumps({"messages": MESSAGES}).encode()
    headers = {"Cookie": f"csrftoken={token}", "X-CSRFToken": token,
               "Content-Type": "application/json"}

    def call() -> str:
        connection.request("POST", "/generate_response/", body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:200]!r}")
        return str(json.loads(data)["response"])

    return call


def _fetch_token(host: str, port: int) -> str:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", "/")
    response = connection.getresponse()
    response.read()
    connection.close()
    cookie = response.getheader("Set-Cookie") or ""
    name, _, rest = cookie.partition("=")
    if name != "csrftoken":
        raise RuntimeError(f"no csrftoken cookie in {cookie!r}")
    return rest.split(";", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="completions per client")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be >= 1")

    emulator_module = _import_emulator()
    clients: set[tuple[str, int]] = set()  # client addresses: one per connection
    try:
        with emulator_module.Emulator(observer=lambda r: clients.add(r.client)) as emulator:
            token = _fetch_token(emulator.host, emulator.port)
            expected = emulator_module.reply_for(MESSAGES)
            calls = {
                "requests.Session": _with_requests(emulator.url, token),
                "http.client": _with_http_client(emulator.host, emulator.port, token),
            }
            results = {name: _measure(args.n, call, expected) for name, call in calls.items()}
            connections = len(clients) - 1  # less the one that fetched the token
            completions = emulator.completions
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1

    print(f"voigpt emulator keep-alive benchmark: {args.n} sequential completions per client")
    for name, (per_second, median) in results.items():
        held = "held" if per_second >= TARGET_PER_SECOND else "MISSED"
        print(
            f"  {name:<17} {per_second:8.0f} completions/s   median {median * 1000:6.3f} ms"
            f"   target >= {TARGET_PER_SECOND:.0f}/s {held}"
        )
    print(f"  connections used: {connections} (one per client), completions: {completions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
