"""``voigpt serve``'s security defaults, seen from outside the process: prompts and replies
are not logged unless ``--log-prompts`` (even with ``-v``); the API key, the site token
and the proxy password never appear in its standard error or in any response; and no CORS
header is sent unless ``--cors-origin`` names the origin."""

from __future__ import annotations

import httpx

from tests.support.messages import HELLO
from tests.support.ports import unused_port
from tests.support.server import ServeProcess, error_of
from voigpt.emulator import Emulator

CANARY_PROMPT = "canary-prompt-7f3a91"
KEY = "sk-canary-key-5d2e8b"
TOKEN = "canarytoken4c19e7a2b"
PASSWORD = "canary-pass-9b7c3d"
ORIGIN = "https://app.example"




def ask(url: str, prompt: str) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=10,
                      json={"messages": [{"role": "user", "content": prompt}]})


# --- prompts and replies -------------------------------------------------------------------


def test_prompts_and_replies_are_not_logged_even_with_v(site: Emulator) -> None:
    process = ServeProcess("-v", "--base-url", site.url)
    response = ask(process.url, CANARY_PROMPT)
    code, stdout, stderr = process.stop()
    assert response.status_code == 200, response.text
    reply = response.json()["choices"][0]["message"]["content"]
    assert CANARY_PROMPT in reply  # the emulator echoes it: the reply is a canary too
    assert code == 0
    assert "POST /v1/chat/completions" in stderr  # -v logs: the check below is not vacuous
    assert CANARY_PROMPT not in stderr
    assert CANARY_PROMPT not in stdout


def test_log_prompts_with_v_logs_the_prompt_and_the_reply(site: Emulator) -> None:
    process = ServeProcess("-v", "--log-prompts", "--base-url", site.url)
    response = ask(process.url, CANARY_PROMPT)
    _, _, stderr = process.stop()
    assert response.status_code == 200, response.text
    reply = response.json()["choices"][0]["message"]["content"]
    logged = [line for line in stderr.splitlines() if CANARY_PROMPT in line]
    assert logged, stderr
    assert any(reply in line for line in logged), logged


# --- secrets -------------------------------------------------------------------------------


def test_no_key_token_or_proxy_password_in_stderr_or_any_response(site: Emulator) -> None:
    proxy = f"http://user:{PASSWORD}@127.0.0.1:{unused_port()}"
    process = ServeProcess("-v", "--api-key", KEY, "--proxy", proxy, "--base-url", site.url,
                           "--retries", "0", "--timeout", "5",
                           env={"VOIGPT_ACCESS_TOKEN": TOKEN})
    keyed = {"Authorization": f"Bearer {KEY}"}
    responses = [
        httpx.post(process.v1 + "/chat/completions", json={"messages": HELLO}, headers=keyed,
                   timeout=15),
        httpx.post(process.v1 + "/chat/completions", json={"messages": HELLO}, headers=keyed,
                   params={"stream": "true"}, timeout=15),
        httpx.post(process.v1 + "/chat/completions", json={"messages": HELLO}, timeout=15,
                   headers={"Authorization": f"Bearer {KEY}x"}),
        # A client that puts the key in the URL: the access log (-v) must not show it.
        httpx.get(process.v1 + "/models", params={"api_key": KEY}, timeout=15),
        httpx.get(process.url + "/health/ready", timeout=15),
        httpx.get(process.url + "/metrics", timeout=15),
        httpx.get(process.url + "/openapi.json", timeout=15),
        httpx.get(process.url + "/", timeout=15),
    ]
    code, stdout, stderr = process.stop()
    # The proxy was really tried and failed: the errors that could carry its URL happened.
    assert error_of(responses[0], 502)["code"] == "upstream_connection_failed"
    assert error_of(responses[2], 401)["code"] == "invalid_api_key"
    assert responses[4].status_code == 503, responses[4].text
    assert code == 0
    assert "/v1/models?api_key=" in stderr  # the access log line is there, scrubbed
    for secret in (KEY, TOKEN, PASSWORD):
        assert secret not in stderr, secret
        assert secret not in stdout, secret
        for response in responses:
            assert secret not in response.text, (secret, response.request.url)
            assert secret not in str(response.headers), (secret, response.request.url)


# --- CORS ----------------------------------------------------------------------------------


def preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(url + "/v1/chat/completions", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def test_no_cors_headers_without_cors_origin() -> None:
    with ServeProcess("--backend", "fake") as process:
        answers = [
            preflight(process.url, ORIGIN),
            httpx.post(process.v1 + "/chat/completions", json={"messages": HELLO},
                       headers={"Origin": ORIGIN}, timeout=10),
            httpx.get(process.v1 + "/models", headers={"Origin": ORIGIN}, timeout=10),
        ]
    assert answers[1].status_code == 200  # served, but a browser may not read it
    for answer in answers:
        assert cors_headers(answer) == {}, answer.headers


def test_cors_origin_allows_its_origin_and_no_other() -> None:
    with ServeProcess("--backend", "fake", "--cors-origin", ORIGIN) as process:
        allowed = preflight(process.url, ORIGIN)
        other = preflight(process.url, "https://evil.example")
        simple = httpx.post(process.v1 + "/chat/completions", json={"messages": HELLO},
                            headers={"Origin": ORIGIN}, timeout=10)
        simple_other = httpx.post(process.v1 + "/chat/completions", json={"messages": HELLO},
                                  headers={"Origin": "https://evil.example"}, timeout=10)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert other.status_code >= 400
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in simple_other.headers
