"""``voigpt serve`` as a person runs it: a separate process on a port the OS picks, driven
by the official openai SDK (sync) and by raw HTTP; ``--backend local`` for a first try
offline; the settings from flags and from ``VOIGPT_*`` variables (flags win, bad values
exit 2 naming the flag or the variable before anything binds); the refusal to expose a
non-loopback address without a key; and ``--workers 2``, two processes that both serve."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import psutil
import pytest

from tests.support.cli import run_cli
from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import ServeProcess, error_of
from voigpt.emulator import Emulator

KEY = "sk-e2e-process-key"
PROMPT = "Hello"



@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[ServeProcess]:
    with ServeProcess("--base-url", site.url, "--api-key", KEY, "--retries", "0") as process:
        yield process


@contextlib.contextmanager
def held_port() -> Iterator[int]:
    """A port on 127.0.0.1 that this test holds open (listening): a server that tried to
    bind it would fail with 'address in use', not with the error the test expects."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def sdk(url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=10)


def loopback(url: str) -> str:
    """The URL a wildcard bind announces (http://0.0.0.0:PORT), reached on 127.0.0.1."""
    return url.replace("0.0.0.0", "127.0.0.1")


# --- the SDK and raw HTTP against the process ----------------------------------------------


def test_the_openai_sdk_gets_the_sites_reply_from_the_process(server: ServeProcess) -> None:
    with sdk(server.url) as client:
        completion = client.chat.completions.create(model="gpt-3.5-turbo", messages=HELLO)  # type: ignore[arg-type]
        streamed = client.chat.completions.create(
            model="gpt-3.5-turbo", messages=HELLO, stream=True  # type: ignore[arg-type]
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed
                       if chunk.choices)
        models = [model.id for model in client.models.list()]
    assert completion.choices[0].message.content == EMULATOR_REPLY
    assert completion.object == "chat.completion"
    assert text == EMULATOR_REPLY
    assert models == ["gpt-3.5-turbo"]


def test_the_sdk_with_a_wrong_key_gets_authentication_error(server: ServeProcess) -> None:
    with sdk(server.url, key="sk-wrong") as client, pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="gpt-3.5-turbo", messages=HELLO)  # type: ignore[arg-type]


def test_raw_http_on_a_socket_gets_a_completion(server: ServeProcess) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    body = json.dumps({"messages": HELLO}).encode()
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
               f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    assert b"content-type: application/json" in head.lower()
    assert json.loads(payload)["choices"][0]["message"]["content"] == EMULATOR_REPLY


def test_health_needs_no_key_and_v1_does(server: ServeProcess) -> None:
    assert httpx.get(server.url + "/health", timeout=10).json() == {"status": "ok"}
    error = error_of(httpx.get(server.v1 + "/models", timeout=10), 401)
    assert error["code"] == "invalid_api_key"


def test_local_backend_answers_offline_from_the_bundled_emulator() -> None:
    with ServeProcess("--backend", "local") as process:
        with sdk(process.url, key="anything") as client:
            completion = client.chat.completions.create(model="gpt-3.5-turbo", messages=HELLO)  # type: ignore[arg-type]
        announced = "".join(process.stdout_lines)
    assert completion.choices[0].message.content == EMULATOR_REPLY
    assert "the bundled emulator stands in for voigpt.com at http://127.0.0.1:" in announced


# --- settings from the environment; flags win; bad values exit 2 before binding -------------


def test_keys_and_limits_come_from_voigpt_variables() -> None:
    env = {"VOIGPT_API_KEYS": "key-a, key-b", "VOIGPT_BACKEND": "fake",
           "VOIGPT_MAX_BODY_BYTES": "2048"}
    with ServeProcess(env=env) as process:
        for key in ("key-a", "key-b"):
            with sdk(process.url, key=key) as client:
                assert client.models.list().data[0].id == "gpt-3.5-turbo"
        wrong = httpx.get(process.v1 + "/models", timeout=10,
                          headers={"Authorization": "Bearer key-c"})
        big = httpx.post(process.v1 + "/chat/completions", timeout=10,
                         headers={"Authorization": "Bearer key-a"},
                         json={"messages": [{"role": "user", "content": "x" * 3000}]})
    assert error_of(wrong, 401)["code"] == "invalid_api_key"
    assert error_of(big, 413)["code"] == "request_too_large"


def test_flags_win_over_voigpt_variables() -> None:
    with held_port() as port:
        # $VOIGPT_PORT names a port in use and $VOIGPT_API_KEYS a key: --port 0 (which
        # ServeProcess passes), --api-key and --max-body-bytes win.
        env = {"VOIGPT_PORT": str(port), "VOIGPT_API_KEYS": "env-key", "VOIGPT_BACKEND": "fake",
               "VOIGPT_MAX_BODY_BYTES": "2048"}
        with ServeProcess("--api-key", "flag-key", "--max-body-bytes", "8192",
                          env=env) as process:
            assert not process.url.endswith(f":{port}")
            by_env = httpx.get(process.v1 + "/models", timeout=10,
                               headers={"Authorization": "Bearer env-key"})
            by_flag = httpx.post(process.v1 + "/chat/completions", timeout=10,
                                 headers={"Authorization": "Bearer flag-key"},
                                 json={"messages": [{"role": "user", "content": "x" * 3000}]})
    assert error_of(by_env, 401)["code"] == "invalid_api_key"
    assert by_flag.status_code == 200, by_flag.text


BAD_VALUES = [
    (["--port", "70000"], {}, "--port"),
    ([], {"VOIGPT_PORT": "http"}, "$VOIGPT_PORT"),
    (["--max-concurrency", "0"], {}, "--max-concurrency"),
    ([], {"VOIGPT_QUEUE_TIMEOUT": "nan"}, "$VOIGPT_QUEUE_TIMEOUT"),
    (["--workers", "0"], {}, "--workers"),
    ([], {"VOIGPT_DRAIN_TIMEOUT": "-1"}, "$VOIGPT_DRAIN_TIMEOUT"),
    (["--max-body-bytes", "1e6"], {}, "--max-body-bytes"),
    ([], {"VOIGPT_API_KEYS": " , "}, "$VOIGPT_API_KEYS"),
    (["--api-key", "has space"], {}, "--api-key"),
    (["--cors-origin", "example.com"], {}, "--cors-origin"),
    ([], {"VOIGPT_LOG_PROMPTS": "maybe"}, "$VOIGPT_LOG_PROMPTS"),
    (["--timeout", "soon"], {}, "--timeout"),
    ([], {"VOIGPT_RETRIES": "-1"}, "$VOIGPT_RETRIES"),
    (["--model-alias", ""], {}, "--model-alias"),
    (["--model-alias", "gpt 4o"], {}, "--model-alias"),
    ([], {"VOIGPT_MODEL_ALIASES": " , "}, "$VOIGPT_MODEL_ALIASES"),
]


@pytest.mark.parametrize(("flags", "env", "named"), BAD_VALUES,
                         ids=[named for _, _, named in BAD_VALUES])
def test_a_bad_value_exits_2_naming_it_before_anything_binds(
    flags: list[str], env: dict[str, str], named: str
) -> None:
    with held_port() as port:
        port_flags = [] if "--port" in flags or "VOIGPT_PORT" in env else ["--port", str(port)]
        result = run_cli("serve", *port_flags, *flags, env=env, timeout=20)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("voigpt: error: ")
    assert named in result.stderr
    assert "in use" not in result.stderr  # it never tried the held port
    assert "listening" not in result.stdout


def test_a_port_in_use_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    with held_port() as port:  # the default state (opened first) goes in tmp_path, not ~
        result = run_cli("serve", "--backend", "fake", "--port", str(port), timeout=20,
                         env={"XDG_STATE_HOME": str(tmp_path)})
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"voigpt: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert "listening" not in result.stdout


# --- exposure ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_a_non_loopback_address_without_a_key_is_refused_before_binding(how: str) -> None:
    with held_port() as port:  # binding 0.0.0.0:PORT would fail: 127.0.0.1:PORT is held
        if how == "flag":
            result = run_cli("serve", "--host", "0.0.0.0", "--port", str(port), "--backend",
                             "fake", timeout=20)
        else:
            result = run_cli("serve", env={"VOIGPT_HOST": "0.0.0.0", "VOIGPT_PORT": str(port),
                                           "VOIGPT_BACKEND": "fake"}, timeout=20)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "refusing to bind 0.0.0.0" in result.stderr
    assert "--api-key" in result.stderr and "--allow-unauthenticated" in result.stderr
    assert "listening" not in result.stdout


def test_a_non_loopback_address_is_served_with_allow_unauthenticated() -> None:
    with ServeProcess("--host", "0.0.0.0", "--allow-unauthenticated", "--backend",
                      "fake") as process:
        assert process.url.startswith("http://0.0.0.0:")
        response = httpx.get(loopback(process.url) + "/v1/models", timeout=10)
    assert response.status_code == 200, response.text


def test_a_non_loopback_address_is_served_with_a_key_and_requires_it() -> None:
    with ServeProcess("--host", "0.0.0.0", "--api-key", KEY, "--backend", "fake") as process:
        url = loopback(process.url)
        without = httpx.get(url + "/v1/models", timeout=10)
        with_key = httpx.get(url + "/v1/models", timeout=10,
                             headers={"Authorization": f"Bearer {KEY}"})
    assert error_of(without, 401)["code"] == "invalid_api_key"
    assert with_key.status_code == 200, with_key.text


# --- workers -------------------------------------------------------------------------------


def workers_of(pid: int) -> list[psutil.Process]:
    """The server processes under ``pid`` (not multiprocessing's resource tracker)."""
    return [child for child in psutil.Process(pid).children(recursive=True)
            if "spawn_main" in " ".join(child.cmdline())]


def test_two_workers_both_serve_and_sigterm_stops_them_all() -> None:
    process = ServeProcess("--workers", "2", "--backend", "fake")
    try:
        assert "(2 processes, state " in process.stdout_lines[-1]
        # Listening as announced: the first request waits for a worker, is not refused.
        assert httpx.get(process.url + "/health", timeout=20).status_code == 200
        workers = workers_of(process.process.pid)
        assert len(workers) == 2, workers
        host, port = process.url.removeprefix("http://").split(":")
        serving: set[int] = set()
        held = []
        deadline = time.monotonic() + 15
        while serving != {w.pid for w in workers} and time.monotonic() < deadline:
            sock = socket.create_connection((host, int(port)), timeout=10)
            held.append(sock)  # kept open, so that its owner can be seen
            sock.sendall(f"GET /v1/models HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            for worker in workers:
                if any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == int(port)
                       for c in worker.net_connections("tcp")):
                    serving.add(worker.pid)
        for sock in held:
            sock.close()
        assert serving == {w.pid for w in workers}, "one worker never answered"
    finally:
        code, _, stderr = process.stop()
    assert code == 0, stderr
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], alive
