"""``GET /health`` answers from the process alone: it touches nothing upstream, even when the
site is down. ``GET /health/ready`` is 200 when the site handed out a token recently (asking
for one if none is fresh) and 503 when it does not; both stay open when keys are set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.hostile.servers import response, send, serving, stall
from tests.support.messages import HELLO
from tests.support.ports import unused_port
from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault
from voigpt.entrypoints.server import health

BOUND = 1.5  # the probe's bound in these tests (PROBE_TIMEOUT is 5 s)
SLACK = 2.0


@pytest.fixture
def server(voigpt_emulator: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=voigpt_emulator.url, retries=0, timeout=5, environ={})
    with served(client) as running:
        yield running



def test_health_is_ok_and_touches_nothing_upstream(
    server: Served, voigpt_emulator: Emulator
) -> None:
    for _ in range(3):
        response = httpx.get(server.url + "/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
    assert voigpt_emulator.requests == []
    assert voigpt_emulator.totals.requests == 0


def test_health_is_ok_while_the_site_is_down() -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    with served(AsyncClient(base_url=dead, retries=0, timeout=2, environ={})) as server:
        response = httpx.get(server.url + "/health")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        assert metric(server.url, "voigpt_token_fetches_total") == 0


def test_ready_asks_the_site_for_a_token_once_and_then_trusts_it(
    server: Served, voigpt_emulator: Emulator
) -> None:
    first = httpx.get(server.url + "/health/ready")
    assert (first.status_code, first.json()) == (200, {"status": "ready"})
    assert [(r.method, r.path) for r in voigpt_emulator.requests] == [("GET", "/")]
    second = httpx.get(server.url + "/health/ready")
    assert second.status_code == 200
    assert len(voigpt_emulator.requests) == 1  # the token is fresh: no second probe
    assert metric(server.url, "voigpt_token_fetches_total", outcome="ok") == 1


def test_ready_after_a_completion_needs_no_probe(
    server: Served, voigpt_emulator: Emulator
) -> None:
    assert httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO}).is_success
    seen = len(voigpt_emulator.requests)
    assert httpx.get(server.url + "/health/ready").status_code == 200
    assert len(voigpt_emulator.requests) == seen


def test_ready_is_503_when_the_site_is_unreachable() -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    with served(AsyncClient(base_url=dead, retries=0, timeout=2, environ={})) as server:
        response = httpx.get(server.url + "/health/ready")
        assert response.status_code == 503
        document = response.json()
        assert document["status"] == "unready"
        assert "ConnectionFailed" in document["reason"]
        assert metric(server.url, "voigpt_token_fetches_total", outcome="ConnectionFailed") == 1


def test_ready_is_503_while_the_site_withholds_tokens_and_recovers_after(
    server: Served, voigpt_emulator: Emulator
) -> None:
    voigpt_emulator.inject(Fault.ANTI_BOT, endpoint="token", times=None)
    response = httpx.get(server.url + "/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unready"
    assert "Blocked" in response.json()["reason"]
    assert httpx.get(server.url + "/health").status_code == 200  # alive all the same
    voigpt_emulator.clear_faults()
    assert httpx.get(server.url + "/health/ready").status_code == 200


def test_health_ready_and_metrics_need_no_key_when_keys_are_set(
    voigpt_emulator: Emulator,
) -> None:
    client = AsyncClient(base_url=voigpt_emulator.url, retries=0, timeout=5, environ={})
    with served(client, api_keys=("sk-only",)) as server:
        assert httpx.get(server.url + "/health").status_code == 200
        assert httpx.get(server.url + "/health/ready").status_code == 200
        assert httpx.get(server.url + "/metrics").status_code == 200
        assert httpx.get(server.v1 + "/models").status_code == 401


# --- one probe at a time, shared ---------------------------------------------------------


def test_concurrent_checks_against_a_hung_site_share_one_probe_and_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five checks at once, the site answering nothing: one probe reaches the site, and all
    five are answered when it gives up, one probe's bound after they came (not one bound
    after another: 1, 2, 3, 4, 5 bounds)."""
    monkeypatch.setattr(health, "PROBE_TIMEOUT", BOUND)
    with serving(stall, budget=BOUND * 6) as site, served(
        AsyncClient(base_url=site.url, retries=0, timeout=30, environ={})
    ) as server, ThreadPoolExecutor(5) as pool:

        def check() -> tuple[int, float]:
            response = httpx.get(server.url + "/health/ready", timeout=BOUND * 8)
            return response.status_code, time.monotonic() - started

        started = time.monotonic()
        answers = list(pool.map(lambda _: check(), range(5)))
        assert [status for status, _ in answers] == [503] * 5
        assert max(took for _, took in answers) < BOUND + SLACK, answers
        assert len(site.seen("GET")) == 1  # one probe reached the site
        assert metric(server.url, "voigpt_token_fetches_total") == 1


def test_a_check_after_a_failed_probe_probes_again(voigpt_emulator: Emulator) -> None:
    client = AsyncClient(base_url=voigpt_emulator.url, retries=0, timeout=5, environ={})
    voigpt_emulator.inject(Fault.SERVER_ERROR, endpoint="token", status=503)
    with served(client) as server:
        assert httpx.get(server.url + "/health/ready").status_code == 503
        assert httpx.get(server.url + "/health/ready").status_code == 200
        assert [r.path for r in voigpt_emulator.requests] == ["/", "/"]


# --- what an unauthenticated check is told -----------------------------------------------

PAGE_CANARY = "page-canary-3f9d: internal host db-7.corp, build 1f2e"


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [(503, "ServiceUnavailable", "upstream_unavailable"),
     (403, "AccessRejected", "upstream_access_rejected"),
     (404, "UnexpectedStatus", "upstream_unexpected_status")],
)
def test_an_unready_answer_says_the_kind_of_failure_never_the_sites_text(
    status: int, kind: str, code: str
) -> None:
    page = response(status, f"<html><body><h1>{PAGE_CANARY}</h1></body></html>",
                    content_type="text/html; charset=utf-8")
    with serving(send(page)) as site, served(
        AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    ) as server:
        answer = httpx.get(server.url + "/health/ready")
    assert site.seen("GET"), "the probe reached the site"
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unready", "reason": f"the site did not hand out a token ({kind})",
        "error": kind, "code": code,
    }
    assert "page-canary" not in answer.text
