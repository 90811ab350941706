"""The exact bytes of ``POST /v1/chat/completions`` as a raw HTTP client sees them: the
``chat.completion`` object field by field, and with ``stream: true`` the Server-Sent
Events framing (``data: {...}\\n\\n`` ... ``data: [DONE]\\n\\n``) and its headers. An error
before the reply exists is a real HTTP status with a JSON body, never a 200 stream."""

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

MODEL = "gpt-3.5-turbo"
CONVERSATION = [{"role": "system", "content": "Be brief."}, *HELLO]



@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    with served(AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})) as running:
        yield running



def complete(server: Served, **body: Any) -> httpx.Response:
    return httpx.post(server.v1 + "/chat/completions", json={"messages": CONVERSATION, **body})


def events(response: httpx.Response) -> list[str]:
    """The ``data:`` payloads, after checking that the body is nothing but
    ``data: PAYLOAD\\n\\n`` events."""
    text = response.text
    assert text.endswith("\n\n"), text
    blocks = text[:-2].split("\n\n")
    for block in blocks:
        assert block.startswith("data: ") and "\n" not in block, block
    return [block.removeprefix("data: ") for block in blocks]


# --- the chat.completion object ---------------------------------------------------------


def test_a_completion_is_exactly_openais_chat_completion_object(server: Served) -> None:
    response = complete(server, model=MODEL)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert set(document) == {
        "id", "object", "created", "model", "choices", "usage", "system_fingerprint"
    }
    assert document["object"] == "chat.completion"
    assert document["id"].startswith("chatcmpl-") and len(document["id"]) > len("chatcmpl-")
    assert response.headers["x-request-id"] == document["id"]
    assert isinstance(document["created"], int)
    assert abs(document["created"] - time.time()) < 300
    assert document["model"] == MODEL
    assert document["system_fingerprint"] is None
    assert document["choices"] == [{
        "index": 0,
        "message": {"role": "assistant", "content": EMULATOR_REPLY, "refusal": None},
        "finish_reason": "stop",
        "logprobs": None,
    }]
    usage = document["usage"]
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert all(isinstance(value, int) and value > 0 for value in usage.values())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_every_completion_has_its_own_id(server: Served) -> None:
    ids = {complete(server).json()["id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_longer_conversation_counts_more_prompt_tokens(server: Served) -> None:
    short = complete(server).json()["usage"]
    longer = complete(server, messages=[*CONVERSATION, {"role": "assistant", "content": "x" * 40},
                                        *HELLO]).json()["usage"]
    assert longer["prompt_tokens"] > short["prompt_tokens"]
    assert longer["completion_tokens"] == short["completion_tokens"]  # the same reply


# --- the event stream -------------------------------------------------------------------


def test_a_stream_is_sse_framed_role_content_finish_then_done(server: Served) -> None:
    response = complete(server, stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    payloads = events(response)
    assert payloads[-1] == "[DONE]"
    assert response.text.endswith("\n\ndata: [DONE]\n\n")
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert len(chunks) == 3
    for chunk in chunks:
        assert set(chunk) == {"id", "object", "created", "model", "system_fingerprint", "choices"}
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == MODEL
        assert len(chunk["choices"]) == 1 and chunk["choices"][0]["index"] == 0
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert response.headers["x-request-id"] == chunks[0]["id"]
    first, content, last = (chunk["choices"][0] for chunk in chunks)
    assert first["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert first["finish_reason"] is None
    assert content["delta"] == {"content": EMULATOR_REPLY}
    assert content["finish_reason"] is None
    assert last["delta"] == {}
    assert last["finish_reason"] == "stop"


def test_include_usage_adds_a_usage_chunk_with_empty_choices_before_done(
    server: Served,
) -> None:
    whole = complete(server).json()
    response = complete(server, stream=True, stream_options={"include_usage": True})
    payloads = events(response)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert len(chunks) == 4
    assert [chunk["usage"] for chunk in chunks[:3]] == [None, None, None]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == whole["usage"]
    assert chunks[2]["choices"][0]["finish_reason"] == "stop"  # the usage chunk comes after


def test_include_usage_false_sends_no_usage_chunk(server: Served) -> None:
    response = complete(server, stream=True, stream_options={"include_usage": False})
    chunks = [json.loads(payload) for payload in events(response)[:-1]]
    assert len(chunks) == 3
    assert all("usage" not in chunk and chunk["choices"] for chunk in chunks)


def test_stream_false_is_a_plain_completion(server: Served) -> None:
    response = complete(server, stream=False)
    assert response.headers["content-type"] == "application/json"
    assert response.json()["object"] == "chat.completion"


def test_a_raw_socket_reads_the_same_stream_on_the_wire(server: Served) -> None:
    body = json.dumps({"messages": HELLO, "stream": True}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    headers, _, payload = rest.partition(b"\r\n\r\n")
    lines = headers.lower().split(b"\r\n")
    assert any(line.startswith(b"content-type: text/event-stream") for line in lines)
    assert b"cache-control: no-cache" in lines
    assert b"x-accel-buffering: no" in lines
    length = [int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length:")]
    if length:  # sent whole: framed by Content-Length, not chunked
        assert length == [len(payload)]
    assert payload.startswith(b'data: {"id":"chatcmpl-')
    assert payload.endswith(b"}\n\ndata: [DONE]\n\n")
    assert payload.count(b"\n\n") == 4  # three chunks and [DONE]
    assert EMULATOR_REPLY.encode() in payload


# --- errors before the reply: a real status, not a 200 stream ---------------------------


@pytest.mark.parametrize(
    ("fault", "params", "status"),
    [
        (Fault.RATE_LIMITED, {"retry_after": "5"}, 429),
        (Fault.SERVER_ERROR, {"status": 503}, 503),
        (Fault.HTML_INSTEAD_OF_JSON, {}, 502),
        (Fault.DROP_CONNECTION, {}, 502),
    ],
    ids=["429", "503", "502-malformed", "502-dropped"],
)
def test_a_stream_that_fails_upstream_is_an_http_error_not_a_200_stream(
    server: Served, emulator: Emulator, fault: Fault, params: dict[str, object], status: int
) -> None:
    emulator.inject(fault, **params)
    response = complete(server, stream=True)
    error_of(response, status)
    assert "data:" not in response.text
    assert "cache-control" not in response.headers


def test_a_stream_with_bad_input_is_a_400_not_a_200_stream(
    server: Served, emulator: Emulator
) -> None:
    response = complete(server, stream=True, messages=[{"role": "user"}])
    assert error_of(response, 400)["param"] == "messages[0].content"
    assert emulator.requests == []
