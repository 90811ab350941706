"""Recorded state (snapshots, reset), quietness, and logging without token values."""

from __future__ import annotations

import logging
import socket

import pytest
import requests

from voigpt.emulator import Emulator, Fault, RecordedRequest, Rejection


def _post(emulator: Emulator, token: str, body: bytes) -> requests.Response:
    return requests.post(
        emulator.url + "/generate_response/?src=test",
        headers={"Cookie": f"csrftoken={token}", "X-CSRFToken": token, "X-Custom": "Yes"},
        data=body,
        timeout=10,
    )


def _raw_exchange(emulator: Emulator, payload: bytes) -> bytes:
    """Send raw bytes and return everything the emulator answers before it closes."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


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


def test_rejection_repr_does_not_show_the_token() -> None:
    rejection = Rejection("/generate_response/", "CSRF token incorrect.", 403, token="T" * 32)

    assert "T" * 32 not in repr(rejection)
    assert rejection.token == "T" * 32


def test_the_emulator_is_quiet(voigpt_emulator: Emulator, capfd: pytest.CaptureFixture[str]
                               ) -> None:
    url = voigpt_emulator.url
    requests.get(url, timeout=10)
    requests.get(url + "/nothing-here", timeout=10)
    requests.post(url + "/generate_response/", data=b"{", timeout=10)
    voigpt_emulator.inject(Fault.DROP_CONNECTION, endpoint="token")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, timeout=10)
    assert _raw_exchange(voigpt_emulator, b"NOT HTTP\r\n\r\n").startswith(b"HTTP/1.1 400 ")

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
