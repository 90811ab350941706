"""Every fault's observable outcome, ``times``/FIFO/endpoint semantics, and parameter checks."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.emulator.helpers import GENERATE, HELLO, REPLY, SiteClient, csrf_headers, fetch_token
from voigpt.emulator import Emulator, Fault


def test_stale_token_revokes_the_presented_token(site_client) -> None:
    emulator = site_client.emulator
    token = site_client.token()
    emulator.inject(Fault.STALE_TOKEN)

    first = site_client.generate(token=token)
    again = site_client.generate(token=token)
    fresh = site_client.generate(token=site_client.token())

    assert first.status_code == again.status_code == 403
    assert "CSRF verification failed. Request aborted." in first.text
    assert "CSRF token incorrect." in first.text
    assert [(r.reason, r.token) for r in emulator.rejections] == [
        ("CSRF token incorrect.", token),
        ("CSRF token incorrect.", token),
    ]
    assert fresh.json() == {"response": REPLY}


def test_stale_token_on_the_token_endpoint_issues_an_already_revoked_token(site_client) -> None:
    site_client.emulator.inject(Fault.STALE_TOKEN, endpoint="token")
    stale = site_client.token()

    refused = site_client.generate(token=stale)
    accepted = site_client.generate(token=site_client.token())

    assert refused.status_code == 403
    assert accepted.status_code == 200


def test_rate_limited_then_normal_service_resumes(site_client) -> None:
    token = site_client.token()
    site_client.emulator.inject(Fault.RATE_LIMITED)

    limited = site_client.generate(token=token)
    normal = site_client.generate(token=token)

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()["detail"] == "Request was throttled."
    assert normal.status_code == 200
    assert normal.json() == {"response": REPLY}
    assert site_client.emulator.completions == 1


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(30, "30"), ("Wed, 21 Oct 2037 07:28:00 GMT", "Wed, 21 Oct 2037 07:28:00 GMT")],
)
def test_rate_limited_retry_after_takes_seconds_or_an_http_date(
    site_client, retry_after: int | str, header: str
) -> None:
    site_client.emulator.inject(Fault.RATE_LIMITED, retry_after=retry_after)

    response = site_client.generate(token=site_client.token())

    assert response.status_code == 429
    assert response.headers["Retry-After"] == header


@pytest.mark.parametrize(("params", "status"), [({}, 500), ({"status": 502}, 502),
                                               ({"status": 503}, 503)])
def test_server_error(site_client, params: dict[str, int], status: int) -> None:
    site_client.emulator.inject(Fault.SERVER_ERROR, **params)

    response = site_client.generate(token=site_client.token())

    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert str(status) in response.text


def test_html_instead_of_json(site_client) -> None:
    site_client.emulator.inject(Fault.HTML_INSTEAD_OF_JSON)

    response = site_client.generate(token=site_client.token())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text.lstrip().startswith("<!DOCTYPE html>")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_missing_response(site_client) -> None:
    site_client.emulator.inject(Fault.MISSING_RESPONSE)

    response = site_client.generate(token=site_client.token())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert isinstance(response.json(), dict)
    assert "response" not in response.json()


def test_missing_response_body_can_be_any_json(site_client) -> None:
    site_client.emulator.inject(Fault.MISSING_RESPONSE, body={"response": 42})

    response = site_client.generate(token=site_client.token())

    assert response.json() == {"response": 42}


def test_slow_answers_normally_after_at_least_the_delay(site_client) -> None:
    token = site_client.token()
    site_client.emulator.inject(Fault.SLOW, delay=0.2)

    started = time.monotonic()
    response = site_client.generate(token=token)
    elapsed = time.monotonic() - started

    assert elapsed >= 0.2
    assert response.json() == {"response": REPLY}


def test_stop_interrupts_a_slow_fault() -> None:
    emulator = Emulator().start()
    token = fetch_token(emulator)
    emulator.inject(Fault.SLOW, delay=60)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(
                requests.post(
                    emulator.url + GENERATE, headers=csrf_headers(token),
                    json={"messages": HELLO}, timeout=30,
                )
            )
        except requests.exceptions.ConnectionError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while len(emulator.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(emulator.requests) == 2  # the POST is in its SLOW wait

    started = time.monotonic()
    emulator.stop()
    stopped_in = time.monotonic() - started
    caller.join(10)

    assert stopped_in < 30, "stop() waited for the SLOW delay instead of interrupting it"
    assert not caller.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.exceptions.ConnectionError)
    assert emulator.completions == 0


def test_oversized_default_is_eleven_mebibytes_of_valid_json(site_client) -> None:
    site_client.emulator.inject(Fault.OVERSIZED)

    response = site_client.generate(token=site_client.token())

    size = 11 * 1024 * 1024
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == size
    assert len(response.content) == size
    assert response.json() == {"response": "x" * (size - len('{"response": ""}'))}


@pytest.mark.parametrize("size", [16, 17, 65536 + 16, 300_001])
def test_oversized_body_length_equals_size(site_client, size: int) -> None:
    site_client.emulator.inject(Fault.OVERSIZED, size=size)

    response = site_client.generate(token=site_client.token())

    assert len(response.content) == size
    assert response.json()["response"] == "x" * (size - 16)


def test_drop_connection_then_service_resumes(site_client) -> None:
    token = site_client.token()
    site_client.emulator.inject(Fault.DROP_CONNECTION)

    with pytest.raises(requests.exceptions.ConnectionError):
        site_client.generate(token=token)
    response = site_client.generate(token=token)

    assert response.json() == {"response": REPLY}


@pytest.mark.parametrize(("params", "status"), [({}, 403), ({"status": 503}, 503)])
def test_anti_bot_serves_a_cloudflare_challenge(
    site_client, params: dict[str, int], status: int
) -> None:
    site_client.emulator.inject(Fault.ANTI_BOT, **params)

    response = site_client.generate(token=site_client.token())

    assert response.status_code == status
    assert response.headers["cf-mitigated"] == "challenge"
    assert response.headers["Server"] == "cloudflare"
    assert "<title>Just a moment...</title>" in response.text
    assert "cf-challenge" in response.text
    assert "Checking your browser before accessing" in response.text


def test_faults_apply_in_fifo_order_one_per_request(site_client) -> None:
    token = site_client.token()
    site_client.emulator.inject(Fault.RATE_LIMITED)
    site_client.emulator.inject(Fault.SERVER_ERROR, status=502)

    statuses = [site_client.generate(token=token).status_code for _ in range(3)]

    assert statuses == [429, 502, 200]


def test_times_counts_matching_requests(site_client) -> None:
    token = site_client.token()
    site_client.emulator.inject(Fault.SERVER_ERROR, times=3)

    statuses = [site_client.generate(token=token).status_code for _ in range(4)]

    assert statuses == [500, 500, 500, 200]


def test_times_none_lasts_until_cleared(site_client) -> None:
    token = site_client.token()
    site_client.emulator.inject(Fault.RATE_LIMITED, times=None)

    before = [site_client.generate(token=token).status_code for _ in range(5)]
    site_client.emulator.clear_faults()
    after = site_client.generate(token=token).status_code

    assert before == [429] * 5
    assert after == 200


def test_token_endpoint_faults_leave_generate_alone(site_client) -> None:
    emulator = site_client.emulator
    emulator.inject(Fault.HTML_INSTEAD_OF_JSON, endpoint="token")

    page = site_client.session.get(emulator.url + "/", timeout=10)
    token = site_client.token()
    response = site_client.generate(token=token)

    assert "csrftoken" not in page.cookies
    assert "maintenance" in page.text
    assert response.json() == {"response": REPLY}
    assert emulator.tokens_issued == [token]


def test_any_endpoint_faults_hit_both_routes(site_client) -> None:
    emulator = site_client.emulator
    token = site_client.token()
    emulator.inject(Fault.RATE_LIMITED, times=2, endpoint="any")

    page = site_client.session.get(emulator.url + "/", timeout=10)
    limited = site_client.generate(token=token)
    normal = site_client.generate(token=token)

    assert (page.status_code, limited.status_code, normal.status_code) == (429, 429, 200)


def test_faults_are_not_spent_on_404_or_405(site_client) -> None:
    emulator = site_client.emulator
    token = site_client.token()
    emulator.inject(Fault.RATE_LIMITED)

    wrong_method = site_client.session.get(emulator.url + "/generate_response/", timeout=10)
    wrong_path = site_client.session.post(emulator.url + "/generate_response", timeout=10)
    limited = site_client.generate(token=token)

    assert (wrong_method.status_code, wrong_path.status_code) == (405, 404)
    assert limited.status_code == 429


def test_faults_can_be_named_by_string(site_client) -> None:
    site_client.emulator.inject("rate_limited", retry_after=5)

    response = site_client.generate(token=site_client.token())

    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    ("fault", "kwargs", "error"),
    [
        (Fault.SLOW, {"status": 500}, TypeError),
        (Fault.DROP_CONNECTION, {"delay": 1}, TypeError),
        (Fault.SERVER_ERROR, {"status": 404}, ValueError),
        (Fault.ANTI_BOT, {"status": 500}, ValueError),
        (Fault.SLOW, {"delay": -1}, ValueError),
        (Fault.SLOW, {"delay": float("nan")}, ValueError),
        (Fault.OVERSIZED, {"size": 10}, ValueError),
        (Fault.RATE_LIMITED, {"retry_after": "1\r\nX-Evil: 1"}, ValueError),
        (Fault.RATE_LIMITED, {"retry_after": "\uff11"}, ValueError),  # not sendable in a header
        (Fault.RATE_LIMITED, {"retry_after": -5}, ValueError),
        (Fault.MISSING_RESPONSE, {"body": object()}, ValueError),
        (Fault.RATE_LIMITED, {"times": 0}, ValueError),
        (Fault.RATE_LIMITED, {"endpoint": "everything"}, ValueError),
        ("NO_SUCH_FAULT", {}, ValueError),
    ],
)
def test_bad_injections_are_refused_at_once_and_queue_nothing(
    control_emulator: Emulator, fault: Fault | str, kwargs: dict[str, object], error: type
) -> None:
    with pytest.raises(error):
        control_emulator.inject(fault, **kwargs)  # type: ignore[arg-type]

    state = requests.get(control_emulator.url + "/__emulator__/state", timeout=10).json()
    client = SiteClient(control_emulator)
    completions = [client.complete() for _ in range(2)]  # a queued fault would hit these
    assert state["faults_pending"] == 0
    assert [(r.status_code, r.json()) for r in completions] == [(200, {"response": REPLY})] * 2
