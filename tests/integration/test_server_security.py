"""API keys and secrets. With keys set, every ``/v1/*`` route needs ``Authorization: Bearer
KEY`` or ``x-api-key: KEY`` (401 in the route's error shape otherwise, before the body is
read or anything goes upstream); ``/health`` stays open. Canary secrets (an API key, a
VOIGPT access token, a proxy password) never show in a response body, a header or a log
line, DEBUG included."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.ports import unused_port
from tests.support.server import Served, error_of, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator

KEY = "sk-right-0123456789"
OTHER_KEY = "sk-other-9876543210"
KEY_CANARY = "sk-CANARYk3y0123456789"
TOKEN_CANARY = "CANARYtok3n0123456789"
PROXY_CANARY = "CANARYpr0xypw"



@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, api_keys=(KEY, OTHER_KEY), max_body_bytes=2048) as running:
        yield running




# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer sk-wrong"},
        {"authorization": f"Basic {KEY}"},
        {"authorization": KEY},
        {"authorization": "Bearer"},
        {"authorization": f"Bearer {KEY[:-1]}"},
        {"authorization": f"Bearer {KEY}x"},
        {"authorization": f"Bearer {KEY.upper()}"},
        {"x-api-key": "sk-wrong"},
        {"x-api-key": ""},
        {"x-api-key": KEY.upper()},
        {"x-api-key": f"Bearer {KEY}"},
    ],
    ids=["none", "wrong", "basic", "no-scheme", "empty", "prefix", "longer", "case",
         "x-api-key-wrong", "x-api-key-empty", "x-api-key-case", "x-api-key-bearer"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("GET", "/v1/models/gpt-3.5-turbo"),
     ("GET", "/v1/no-such-route")],
)
def test_v1_without_a_valid_bearer_key_is_a_401_and_nothing_goes_upstream(
    server: Served, emulator: Emulator, headers: dict[str, str], method: str, path: str
) -> None:
    response = httpx.request(method, server.url + path, json={"messages": HELLO},
                             headers=headers)
    error = error_of(response, 401)
    assert error["code"] == "invalid_api_key"
    assert response.headers["www-authenticate"] == "Bearer"
    assert emulator.requests == []


@pytest.mark.parametrize("key", [KEY, OTHER_KEY])
def test_any_configured_key_is_accepted(server: Served, key: str) -> None:
    headers = {"authorization": f"Bearer {key}"}
    response = httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO},
                          headers=headers)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == EMULATOR_REPLY
    assert httpx.get(server.v1 + "/models", headers=headers).status_code == 200
    lower = {"authorization": f"bearer {key}"}  # the scheme is case-insensitive
    assert httpx.get(server.v1 + "/models", headers=lower).status_code == 200


@pytest.mark.parametrize("key", [KEY, OTHER_KEY])
def test_a_key_is_also_accepted_as_x_api_key_on_every_v1_route(server: Served, key: str) -> None:
    headers = {"x-api-key": key}  # as Anthropic's clients send it
    response = httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO},
                          headers=headers)
    assert response.status_code == 200
    assert httpx.get(server.v1 + "/models", headers=headers).status_code == 200
    # a wrong Bearer key beside it does not undo a right x-api-key, nor the reverse
    both = {"x-api-key": key, "authorization": "Bearer sk-wrong"}
    assert httpx.get(server.v1 + "/models", headers=both).status_code == 200
    both = {"x-api-key": "sk-wrong", "authorization": f"Bearer {key}"}
    assert httpx.get(server.v1 + "/models", headers=both).status_code == 200


def test_a_large_body_without_a_key_is_refused_with_401_before_it_is_read(
    server: Served,
) -> None:
    response = httpx.post(server.v1 + "/chat/completions", content=b"x" * 100_000)
    assert error_of(response, 401)["code"] == "invalid_api_key"


@pytest.mark.parametrize("path", ["/health", "/health/ready", "/metrics"])
def test_health_and_metrics_stay_open_with_keys_set(server: Served, path: str) -> None:
    assert httpx.get(server.url + path).status_code == 200


def test_mounted_under_a_prefix_v1_still_needs_the_key(site: Emulator) -> None:
    """Another ASGI app serving this one under /api: /api/v1/* is /v1/* (Starlette puts
    the prefix in root_path), so it needs the key, on the completion route too."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    def under_api(app: object) -> Starlette:
        return Starlette(routes=[Mount("/api", app=app)])  # type: ignore[arg-type]

    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, wrap=under_api, api_keys=(KEY,)) as running:
        site.reset_records()
        api = running.url + "/api/v1"
        refused = [httpx.get(api + "/models"),
                   httpx.post(api + "/chat/completions", json={"messages": HELLO})]
        allowed = httpx.post(api + "/chat/completions", json={"messages": HELLO},
                             headers={"Authorization": f"Bearer {KEY}"})
        counted = httpx.get(running.url + "/api/metrics").text
    for response in refused:
        assert error_of(response, 401)["code"] == "invalid_api_key"
    assert allowed.status_code == 200
    assert allowed.json()["choices"][0]["message"]["content"] == EMULATOR_REPLY
    assert len([r for r in site.requests if r.method == "POST"]) == 1  # the allowed one
    # the completion endpoint served it, labelled by its route as without the mount
    assert 'route="/v1/chat/completions",status="200"' in counted


def test_without_keys_on_loopback_v1_is_open(site: Emulator) -> None:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client) as open_server:
        response = httpx.post(open_server.v1 + "/chat/completions", json={"messages": HELLO},
                              headers={"authorization": "Bearer anything"})
        assert response.status_code == 200


def test_the_openapi_document_declares_bearer_auth_without_showing_a_key(
    server: Served,
) -> None:
    text = httpx.get(server.url + "/openapi.json").text
    document = httpx.get(server.url + "/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey", "in": "header", "name": "x-api-key"}
    assert document["paths"]["/v1/chat/completions"]["post"]["security"] == [
        {"bearer": []}, {"api_key": []}]
    assert KEY not in text and OTHER_KEY not in text


# --- canaries ----------------------------------------------------------------------------


def everything_shown(caplog: pytest.LogCaptureFixture, *responses: httpx.Response) -> str:
    parts = [caplog.text, *(record.getMessage() for record in caplog.records)]
    for response in responses:
        parts.append(response.text)
        parts.extend(f"{name}: {value}" for name, value in response.headers.items())
    return "\n".join(parts)


def assert_logs_were_captured(caplog: pytest.LogCaptureFixture) -> None:
    """The server thread's DEBUG records reached caplog, so their absence of secrets means
    something."""
    assert any(record.name.startswith("voigpt.http") for record in caplog.records), [
        record.name for record in caplog.records
    ]


def test_a_wrong_api_key_never_shows_in_the_answer_or_the_logs(
    server: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"authorization": f"Bearer {KEY_CANARY}"}
    responses = [
        httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO}, headers=headers),
        httpx.get(server.v1 + "/models", headers=headers),
        httpx.get(server.v1 + "/no-such-route", headers=headers),
    ]
    assert [r.status_code for r in responses] == [401, 401, 401]
    right = {"authorization": f"Bearer {KEY}"}
    responses.append(httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO},
                                headers=right))
    responses.append(httpx.get(server.url + "/metrics"))
    assert_logs_were_captured(caplog)
    shown = everything_shown(caplog, *responses)
    assert KEY_CANARY not in shown
    assert KEY not in shown and OTHER_KEY not in shown


def test_the_configured_key_never_shows_in_a_failed_completion_or_the_logs(
    server: Served, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    from voigpt.emulator import Fault

    caplog.set_level(logging.DEBUG)
    headers = {"authorization": f"Bearer {KEY}"}
    emulator.inject(Fault.ANTI_BOT)
    failed = httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO},
                        headers=headers)
    assert failed.status_code == 502
    bad = httpx.post(server.v1 + "/chat/completions", json={"messages": "x"}, headers=headers)
    assert bad.status_code == 400
    assert_logs_were_captured(caplog)
    shown = everything_shown(caplog, failed, bad)
    assert KEY not in shown
    # Nor the site's token: the one the failed completion carried (the module's server may
    # hold a token fetched before this test, so tokens_issued alone can be empty).
    carried = {r.headers["x-csrftoken"] for r in emulator.requests if r.method == "POST"}
    assert carried, "the failed completion reached the site with a token"
    for token in carried | set(emulator.tokens_issued):
        assert token not in shown


def test_a_rejected_access_token_never_shows_in_the_answer_or_the_logs(
    site: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    site.reset_records()
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, access_token=TOKEN_CANARY,
                         environ={})
    with served(client) as token_server:
        response = httpx.post(token_server.v1 + "/chat/completions", json={"messages": HELLO})
        ready = httpx.get(token_server.url + "/health/ready")
        metrics = httpx.get(token_server.url + "/metrics")
    assert site.requests[0].headers["x-csrftoken"] == TOKEN_CANARY  # it really was sent
    assert error_of(response, 502)["code"] == "upstream_access_rejected"
    assert_logs_were_captured(caplog)
    assert TOKEN_CANARY not in everything_shown(caplog, response, ready, metrics)


def test_a_proxy_password_never_shows_in_the_answer_or_the_logs(
    site: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = f"http://user:{PROXY_CANARY}@127.0.0.1:{unused_port()}"
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, proxy=proxy, environ={})
    with served(client) as proxied:
        response = httpx.post(proxied.v1 + "/chat/completions", json={"messages": HELLO})
        ready = httpx.get(proxied.url + "/health/ready")
    error = error_of(response, 502)
    assert error["code"] == "upstream_connection_failed"
    assert "proxy" in str(error["message"])  # it does say what failed...
    assert ready.status_code == 503
    assert ready.json()["code"] == "upstream_connection_failed"  # its kind, no detail
    assert any(record.name.startswith("uvicorn") for record in caplog.records)
    assert PROXY_CANARY not in everything_shown(caplog, response, ready)  # ...but not the secret
