"""Every error the server answers, over real HTTP: OpenAI's body ``{"error": {message, type,
param, code}}`` (validation errors included) with the status that makes clients do the right
thing. 400 names the parameter, 404 an unknown route or model, 413 an oversized body (with
and without Content-Length), 429 the site's rate limit with its Retry-After, 502/503 the
site's failures, 504 the deadline. Input refused here never reaches the site."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, error_of, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault

BODY_CAP = 4096



@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, max_reply_bytes=4096,
                         environ={})
    with served(client, max_body_bytes=BODY_CAP) as running:
        yield running



def post(server: Served, body: Any = None, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.v1 + "/chat/completions", json=body, **kwargs)


def with_hello(**params: Any) -> dict[str, Any]:
    return {"messages": HELLO, **params}


# --- 400: bad input, naming the parameter -------------------------------------------------

BAD_INPUT = [
    ("no-messages", {"model": "gpt-3.5-turbo"}, "messages", "missing_required_parameter"),
    ("messages-not-a-list", {"messages": "Hello"}, "messages", "invalid_value"),
    ("messages-empty", {"messages": []}, "messages", "invalid_value"),
    ("unknown-role", {"messages": [*HELLO, {"role": "bot", "content": "x"}]},
     "messages[1].role", "invalid_value"),
    ("no-role", {"messages": [{"content": "x"}]}, "messages[0].role", "invalid_value"),
    ("no-content", {"messages": [{"role": "user"}]}, "messages[0].content", "invalid_value"),
    ("null-content", {"messages": [{"role": "user", "content": None}]},
     "messages[0].content", "invalid_value"),
    ("image-part", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages[0].content[1]", "invalid_value"),
    ("tool-without-call-id", {"messages": [{"role": "tool", "content": "x"}]},
     "messages[0]", "invalid_value"),
    ("message-not-an-object", {"messages": ["Hello"]}, "messages[0]", "invalid_value"),
    ("n", with_hello(n=2), "n", "unsupported_parameter"),
    ("hosted-tool", with_hello(tools=[{"type": "web_search"}]), "tools[0]", "invalid_value"),
    ("tool-schema", with_hello(tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": 1}}}]), "tools[0].function.parameters",
     "invalid_value"),
    ("functions", with_hello(functions=[{"name": "f"}]), "functions", "unsupported_parameter"),
    ("function_call", with_hello(function_call={"name": "f"}), "function_call",
     "unsupported_parameter"),
    ("tool_choice", with_hello(tool_choice="required"), "tool_choice", "invalid_value"),
    ("response_format", with_hello(response_format={"type": "yaml"}),
     "response_format.type", "invalid_value"),
    ("json_schema", with_hello(response_format={"type": "json_schema", "json_schema": {}}),
     "response_format.json_schema.schema", "invalid_value"),
    ("logprobs", with_hello(logprobs=True), "logprobs", "unsupported_parameter"),
    ("top_logprobs", with_hello(top_logprobs=3), "top_logprobs", "unsupported_parameter"),
    ("temperature", with_hello(temperature=5), "temperature", "invalid_value"),
    ("max_tokens", with_hello(max_tokens=0), "max_tokens", "invalid_value"),
    ("model-type", with_hello(model=42), "model", "invalid_value"),
    ("stream-type", with_hello(stream=[1]), "stream", "invalid_value"),
    ("include_usage", with_hello(stream=True, stream_options={"include_usage": "maybe"}),
     "stream_options.include_usage", "invalid_value"),
]


@pytest.mark.parametrize(("body", "param", "code"), [case[1:] for case in BAD_INPUT],
                         ids=[case[0] for case in BAD_INPUT])
def test_bad_input_is_a_400_naming_the_parameter_and_nothing_is_sent(
    server: Served, emulator: Emulator, body: dict[str, Any], param: str, code: str
) -> None:
    error = error_of(post(server, body), 400)
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("content", "headers", "code"),
    [
        (b'{"messages": [', {"content-type": "application/json"}, "invalid_json"),
        (b"\xff\xfe\x00", {"content-type": "application/json"}, "invalid_json"),
        (b"[" * 2000 + b"]" * 2000, {"content-type": "application/json"}, "invalid_json"),
        (b"[]", {"content-type": "application/json"}, "invalid_value"),
        (b"null", {"content-type": "application/json"}, "invalid_value"),
        (b'"Hello"', {"content-type": "application/json"}, "invalid_value"),
        (json.dumps(with_hello()).encode(), {"content-type": "text/plain"}, "invalid_value"),
        (b"", {}, "invalid_value"),
    ],
    ids=["truncated", "not-utf8", "nested-too-deep", "array", "null", "string", "text-plain",
         "empty"],
)
def test_a_body_that_is_not_a_json_object_is_a_400(
    server: Served, emulator: Emulator, content: bytes, headers: dict[str, str], code: str
) -> None:
    error = error_of(post(server, content=content, headers=headers), 400)
    assert error["code"] == code
    assert error["param"] is None
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"messages": [', "the body is not valid JSON"),
        (b'{"messages": [{"role": "user", "content": "\xff"}]}',
         "the body is not valid UTF-8 JSON"),
        (b"[" * 2000 + b"]" * 2000, "the body is not valid JSON: it is nested too deeply"),
    ],
    ids=["truncated", "not-utf8", "nested-too-deep"],
)
def test_a_body_that_is_not_json_says_why(
    server: Served, emulator: Emulator, content: bytes, message: str
) -> None:
    error = error_of(post(server, content=content, headers={"content-type": "application/json"}),
                     400)
    assert (error["message"], error["code"], error["param"]) == (message, "invalid_json", None)
    assert emulator.requests == []


def test_a_number_longer_than_python_reads_is_invalid_json_not_a_500(emulator: Emulator) -> None:
    client = AsyncClient(base_url=emulator.url, retries=0, environ={})
    body = b'{"messages": [{"role": "user", "content": "Hi"}], "seed": 1' + b"0" * 4400 + b"}"
    with served(client) as big:  # the default cap, 1 MiB
        response = post(big, content=body, headers={"content-type": "application/json"})
    error = error_of(response, 400)
    assert error["message"] == "the body is not valid JSON: it holds a number too long to read"
    assert error["code"] == "invalid_json"
    assert emulator.requests == []


SAMPLING = [
    {"temperature": 0}, {"temperature": 2}, {"top_p": 0.1}, {"max_tokens": 16},
    {"max_completion_tokens": 16}, {"stop": "\n"}, {"stop": ["a", "b", "c", "d"]},
    {"stop": None}, {"seed": -7}, {"user": "user-42"}, {"presence_penalty": -2},
    {"frequency_penalty": 2}, {"logit_bias": {"50256": -100}}, {"n": 1},
    {"response_format": {"type": "text"}}, {"logprobs": False}, {"top_logprobs": 0},
    {"tools": []}, {"tool_choice": "none"}, {"tool_choice": "auto"},
    {"parallel_tool_calls": True}, {"store": False}, {"metadata": {"a": "b"}},
    {"reasoning_effort": "low"}, {"service_tier": "auto"}, {"stream": None},
    {"some_vendor_extension": {"any": ["thing"]}},
]


@pytest.mark.parametrize("params", SAMPLING, ids=lambda params: next(iter(params)))
def test_parameters_that_only_tune_sampling_are_accepted_and_ignored(
    server: Served, emulator: Emulator, params: dict[str, Any]
) -> None:
    response = post(server, with_hello(**params))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": HELLO}  # nothing of them is sent


# --- 404 and 405 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1"), ("GET", "/v1/edits"), ("POST", "/v1/embeddings"),
     ("GET", "/v1/chat/completions/x"), ("DELETE", "/nope/../v2")],
)
def test_an_unknown_route_is_a_404_in_the_error_shape(
    server: Served, method: str, path: str
) -> None:
    error = error_of(httpx.request(method, server.url + path), 404)
    assert error["code"] == "unknown_url"


def test_a_known_route_with_the_wrong_method_is_a_405_in_the_error_shape(server: Served) -> None:
    response = httpx.get(server.v1 + "/chat/completions")
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert "POST" in response.headers["allow"]


def test_an_unknown_model_is_a_404_for_completions_and_for_models(
    server: Served, emulator: Emulator
) -> None:
    error = error_of(post(server, with_hello(model="gpt-4")), 404)
    assert (error["param"], error["code"]) == ("model", "model_not_found")
    assert "gpt-4" in str(error["message"])
    error = error_of(httpx.get(server.v1 + "/models/gpt-4"), 404)
    assert error["code"] == "model_not_found"
    assert emulator.requests == []


def test_models_are_listed_and_retrieved_in_openais_shape(server: Served) -> None:
    listing = httpx.get(server.v1 + "/models")
    assert listing.status_code == 200
    document = listing.json()
    assert document["object"] == "list"
    assert [set(model) for model in document["data"]] == [{"id", "object", "created", "owned_by"}]
    model = document["data"][0]
    assert (model["id"], model["object"], model["owned_by"]) == ("gpt-3.5-turbo", "model", "voigpt")
    assert httpx.get(server.v1 + "/models/gpt-3.5-turbo").json() == model


# --- 413 ------------------------------------------------------------------------------


def big_body(size: int) -> bytes:
    body = json.dumps({"messages": [{"role": "user", "content": ""}]}).encode()
    filler = b"x" * (size - len(body))
    return body.replace(b'"content": ""', b'"content": "' + filler + b'"')[:size]


def test_a_body_at_the_cap_is_served(server: Served) -> None:
    body = big_body(BODY_CAP - 2) + b"\n\n"
    assert len(body) == BODY_CAP
    response = post(server, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


def test_a_body_over_the_cap_with_content_length_is_a_413_and_nothing_is_sent(
    server: Served, emulator: Emulator
) -> None:
    body = big_body(BODY_CAP + 1)
    error = error_of(post(server, content=body, headers={"content-type": "application/json"}),
                     413)
    assert error["code"] == "request_too_large"
    assert emulator.requests == []


def test_a_declared_oversized_body_is_refused_before_it_is_sent(server: Served) -> None:
    """Content-Length says 1 GB and not one byte of the body comes: the answer is at once."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n".encode()
        )
        answer = b""  # a socket timeout here would mean it waited for the body
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}}"):
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_chunked_body_over_the_cap_is_a_413_and_nothing_is_sent(
    server: Served, emulator: Emulator
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        body = big_body(BODY_CAP * 4)
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    response = post(server, content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert error_of(response, 413)["code"] == "request_too_large"
    assert emulator.requests == []


def test_a_chunked_body_under_the_cap_is_served(server: Served) -> None:
    body = json.dumps(with_hello()).encode()
    response = post(server, content=iter([body[:10], body[10:]]),
                    headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 200, response.text


# --- the site's failures ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "params", "status", "code"),
    [
        (Fault.SERVER_ERROR, {"status": 500}, 503, "upstream_unavailable"),
        (Fault.SERVER_ERROR, {"status": 502}, 503, "upstream_unavailable"),
        (Fault.SERVER_ERROR, {"status": 503}, 503, "upstream_unavailable"),
        (Fault.HTML_INSTEAD_OF_JSON, {}, 502, "upstream_malformed_reply"),
        (Fault.MISSING_RESPONSE, {}, 502, "upstream_malformed_reply"),
        (Fault.OVERSIZED, {"size": 8192}, 502, "upstream_reply_too_large"),
        (Fault.DROP_CONNECTION, {}, 502, "upstream_connection_failed"),
        (Fault.ANTI_BOT, {}, 502, "upstream_blocked"),
        (Fault.ANTI_BOT, {"status": 503}, 502, "upstream_blocked"),
    ],
    ids=["500", "502", "503", "html", "no-response", "oversized", "dropped", "anti-bot",
         "anti-bot-503"],
)
def test_a_site_failure_is_a_502_or_503_in_the_error_shape(
    server: Served, emulator: Emulator, fault: Fault, params: dict[str, object], status: int,
    code: str,
) -> None:
    emulator.inject(fault, **params)
    error = error_of(post(server, with_hello()), status)
    assert (error["type"], error["code"]) == ("server_error", code)
    assert post(server, with_hello()).status_code == 200  # the fault was one-shot


def test_a_failure_to_get_a_token_is_a_502(server: Served, emulator: Emulator) -> None:
    emulator.revoke_tokens()  # the cached token is refused: a new one must be fetched
    emulator.inject(Fault.ANTI_BOT, endpoint="token")
    error = error_of(post(server, with_hello()), 502)
    assert error["code"] == "upstream_blocked"
    assert "token" in str(error["message"])


@pytest.mark.parametrize(("retry_after", "header"), [("7", "7"), (0, "1"),
                                                     ("Wed, 21 Oct 2015 07:28:00 GMT", "1")])
def test_the_sites_429_is_a_429_passing_on_retry_after(
    server: Served, emulator: Emulator, retry_after: object, header: str
) -> None:
    emulator.inject(Fault.RATE_LIMITED, retry_after=retry_after)
    response = post(server, with_hello())
    error = error_of(response, 429)
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert response.headers["retry-after"] == header


def test_the_deadline_is_a_504_before_the_slow_site_answers() -> None:
    with Emulator() as emulator:
        emulator.inject(Fault.SLOW, delay=5)
        client = AsyncClient(base_url=emulator.url, retries=0, timeout=0.5, environ={})
        with served(client) as server:
            started = time.monotonic()
            response = post(server, with_hello())
            seconds = time.monotonic() - started
    error = error_of(response, 504)
    assert (error["type"], error["code"]) == ("server_error", "upstream_timeout")
    assert seconds < 4  # the deadline, not the site's 5 s, ended it


# --- 500: what nobody foresaw -----------------------------------------------------------


def test_an_unforeseen_error_is_a_500_in_the_error_shape_naming_only_its_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from voigpt.adapters.memory import AsyncFakeChatTransport

    canary = "sk-canary-5b1e"  # what a bug might carry in its message
    client = AsyncClient(backend="fake")
    client.container.async_transport.override(
        AsyncFakeChatTransport(replies=[RuntimeError(f"a bug holding {canary}")])
    )
    caplog.set_level("ERROR", logger="voigpt.server")
    with served(client) as running:
        response = post(running, with_hello())
        after = post(running, with_hello())  # the server goes on serving
    error = error_of(response, 500)
    assert (error["type"], error["code"]) == ("server_error", "internal_error")
    assert canary not in response.text
    assert after.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "voigpt.server"]
    assert lines == ["internal error in POST /v1/chat/completions: RuntimeError"]
