"""Recorded state (snapshots, reset), quietness, and logging without token values."""

from __future__ import annotations

import http.client
import logging
import os
import threading

import psutil
import pytest
import requests

from tests.emulator.helpers import SiteClient, raw_exchange
from voigpt.emulator import Emulator, Fault, RecordedRequest, Rejection, Totals
from voigpt.emulator.csrf import CsrfGuard


def _post(emulator: Emulator, token: str, body: bytes) -> requests.Response:
    return requests.post(
        emulator.url + "/generate_response/?src=test",
        headers={"Cookie": f"csrftoken={token}", "X-CSRFToken": token, "X-Custom": "Yes"},
        data=body,
        timeout=10,
    )


def test_requests_are_recorded_with_lowercase_headers_body_and_client(
    voigpt_emulator: Emulator,
) -> None:
    token = requests.get(voigpt_emulator.url, timeout=10).cookies["csrftoken"]
    body = b'{"messages": [{"role": "user", "content": "hi"}]}'
    assert _post(voigpt_emulator, token, body).status_code == 200

    get, post = voigpt_emulator.requests

    assert isinstance(post, RecordedRequest)
    assert (get.method, get.path, get.body) == ("GET", "/", b"")
    assert (post.method, post.path, post.body) == ("POST", "/generate_response/?src=test", body)
    assert post.headers["x-custom"] == "Yes"
    assert post.headers["cookie"] == f"csrftoken={token}"
    assert all(name == name.lower() for name in post.headers)
    host, port = post.client
    assert host == "127.0.0.1"
    assert isinstance(port, int)
    assert port > 0
    assert post.json() == {"messages": [{"role": "user", "content": "hi"}]}


def test_records_are_snapshots(voigpt_emulator: Emulator) -> None:
    requests.get(voigpt_emulator.url, timeout=10)
    snapshot = voigpt_emulator.requests
    snapshot[0].headers["injected"] = "x"
    snapshot.clear()
    voigpt_emulator.tokens_issued.clear()

    assert len(voigpt_emulator.requests) == 1
    assert "injected" not in voigpt_emulator.requests[0].headers
    assert len(voigpt_emulator.tokens_issued) == 1


def test_reset_records_keeps_tokens_valid_and_faults_queued(voigpt_emulator: Emulator) -> None:
    token = requests.get(voigpt_emulator.url, timeout=10).cookies["csrftoken"]
    _post(voigpt_emulator, "Z" * 32, b"{}")
    _post(voigpt_emulator, token, b'{"messages": [{"role": "user", "content": "a"}]}')
    voigpt_emulator.inject(Fault.RATE_LIMITED)
    assert voigpt_emulator.rejections == [
        Rejection("/generate_response/", "CSRF token incorrect.", 403)
    ]
    assert voigpt_emulator.rejections[0].token == "Z" * 32

    voigpt_emulator.reset_records()

    assert voigpt_emulator.requests == []
    assert voigpt_emulator.tokens_issued == []
    assert voigpt_emulator.rejections == []
    assert voigpt_emulator.completions == 0
    assert _post(voigpt_emulator, token, b"{}").status_code == 429
    assert _post(voigpt_emulator, token, b'{"messages": [{"role": "user", "content": "b"}]}'
                 ).status_code == 200
    assert voigpt_emulator.completions == 1


def test_a_rejected_token_is_kept_but_never_shown_in_a_repr(voigpt_emulator: Emulator) -> None:
    token = requests.get(voigpt_emulator.url, timeout=10).cookies["csrftoken"]
    refused = _post(voigpt_emulator, token[::-1], b"{}")  # cookie and header carry another

    rejections = voigpt_emulator.rejections
    assert refused.status_code == 403
    assert [r.token for r in rejections] == [token[::-1]]
    assert token[::-1] not in repr(rejections)
    assert token[::-1] not in repr(voigpt_emulator)


def test_the_emulator_is_quiet(voigpt_emulator: Emulator, capfd: pytest.CaptureFixture[str]
                               ) -> None:
    url = voigpt_emulator.url
    requests.get(url, timeout=10)
    requests.get(url + "/nothing-here", timeout=10)
    requests.post(url + "/generate_response/", data=b"{", timeout=10)
    voigpt_emulator.inject(Fault.DROP_CONNECTION, endpoint="token")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, timeout=10)
    assert raw_exchange(voigpt_emulator, b"NOT HTTP\r\n\r\n").startswith(b"HTTP/1.1 400 ")

    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_debug_logging_never_contains_token_values(
    voigpt_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="voigpt.emulator")
    token = requests.get(voigpt_emulator.url, timeout=10).cookies["csrftoken"]
    _post(voigpt_emulator, token, b'{"messages": [{"role": "user", "content": "a"}]}')
    _post(voigpt_emulator, token[::-1], b"{}")

    messages = [record.getMessage() for record in caplog.records]
    assert any("/generate_response/" in m for m in messages)
    assert all(record.name.startswith("voigpt.emulator") for record in caplog.records)
    assert not [m for m in messages if token in m or token[::-1] in m]


def _exchange(connection: http.client.HTTPConnection, method: str, path: str) -> str | None:
    """One keep-alive request; the csrftoken it set, if any."""
    connection.request(method, path, body=b"{}" if method == "POST" else None)
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie")
    return cookie.split(";")[0].removeprefix("csrftoken=") if cookie else None


def test_records_keep_the_latest_thousand_while_totals_count_everything(
    voigpt_emulator: Emulator,
) -> None:
    n = 1005
    connection = http.client.HTTPConnection(voigpt_emulator.host, voigpt_emulator.port)
    tokens = [_exchange(connection, "GET", f"/?n={i}") for i in range(n)]
    for i in range(n):
        _exchange(connection, "POST", f"/generate_response/?n={i}")  # no token: rejected
    connection.close()

    assert [r.path for r in voigpt_emulator.requests] == [
        f"/generate_response/?n={i}" for i in range(n - 1000, n)
    ]
    assert voigpt_emulator.tokens_issued == tokens[-1000:]
    assert len(voigpt_emulator.rejections) == 1000
    assert voigpt_emulator.totals == Totals(
        requests=2 * n, tokens_issued=n, rejections=n, completions=0
    )

    voigpt_emulator.reset_records()

    assert voigpt_emulator.totals == Totals()
    assert voigpt_emulator.requests == []


def test_recorded_bodies_are_bounded_to_eight_mebibytes(voigpt_emulator: Emulator) -> None:
    body = b"x" * (1024 * 1024)
    with requests.Session() as session:
        for i in range(12):
            response = session.post(
                f"{voigpt_emulator.url}/generate_response/?n={i}", data=body, timeout=10
            )
            assert response.status_code == 403

    kept = voigpt_emulator.requests
    assert [r.path for r in kept] == [f"/generate_response/?n={i}" for i in range(4, 12)]
    assert sum(len(r.body) for r in kept) == 8 * 1024 * 1024
    assert voigpt_emulator.totals.requests == 12
    assert voigpt_emulator.totals.rejections == 12


def test_only_the_newest_tokens_stay_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CsrfGuard, "limit", 3)
    with Emulator() as emulator:
        client = SiteClient(emulator)
        tokens = [client.token() for _ in range(4)]
        statuses = [client.generate(token=token).status_code for token in tokens]

    assert statuses == [403, 200, 200, 200]
    assert emulator.rejections[0].reason == "CSRF token incorrect."


def _owner(client: tuple[str, int]) -> int | None:
    """The pid of the process whose established TCP connection has the local end ``client``."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and tuple(conn.laddr)[:2] == client and conn.status == "ESTABLISHED":
            return conn.pid
    return None


def test_the_observer_sees_each_request_while_its_connection_is_open() -> None:
    seen: list[tuple[str, str, int | None]] = []

    def observer(request: RecordedRequest) -> None:
        seen.append((request.method, request.path, _owner(request.client)))

    with Emulator(observer=observer) as emulator:
        client = SiteClient(emulator)
        client.complete()
        client.generate()  # rejected: no token
        client.session.get(emulator.url + "/nothing", headers={"Connection": "close"})

    pid = os.getpid()
    assert seen == [("GET", "/", pid), ("POST", "/generate_response/", pid),
                    ("POST", "/generate_response/", pid), ("GET", "/nothing", pid)]


def test_the_response_waits_for_the_observer() -> None:
    entered, release = threading.Event(), threading.Event()
    statuses: list[int] = []

    def observer(request: RecordedRequest) -> None:
        entered.set()
        release.wait(10)

    with Emulator(observer=observer) as emulator:
        caller = threading.Thread(
            target=lambda: statuses.append(requests.get(emulator.url, timeout=10).status_code)
        )
        caller.start()
        assert entered.wait(10)
        caller.join(0.2)
        answered_early = statuses != []
        release.set()
        caller.join(10)

    assert not answered_early
    assert statuses == [200]


def test_an_observer_that_raises_is_logged_and_serving_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def observer(request: RecordedRequest) -> None:
        raise RuntimeError(f"observer broke on {request.path}")

    with Emulator(observer=observer) as emulator:
        responses = [SiteClient(emulator).complete() for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]
    assert emulator.completions == 2
    assert len(emulator.requests) == 4
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.exc_info[1].args[0] for r in errors if r.exc_info and r.exc_info[1]] == [
        "observer broke on /", "observer broke on /generate_response/",
    ] * 2
