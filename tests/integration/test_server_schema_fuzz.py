"""``/openapi.json`` says what the server really does: schemathesis reads the document the
running server publishes and sends it generated requests, valid and invalid, to every
operation. For each answer: never a 5xx, a status the document lists for that operation,
the documented content type (and an ``Allow`` header on a 405), a body (or each event of
a stream) that matches the documented schema, documented-valid input accepted, and a
missing or wrong key refused with 401.

Not checked: that every schema-invalid body is refused. The request model is pydantic's
lax mode, so ``"store": 0`` or ``"max_tokens": "5"`` is coerced and accepted, although the
document says boolean and integer; strict mode would refuse ``"max_tokens": 1.0``, which
JSON Schema calls an integer (a documented-valid request rejected, the worse mismatch).
The refusals that matter (n, tools, logprobs...) have their own tests.

The server is the real app on a real uvicorn socket (``served``) over ``AsyncClient``'s
``fake`` backend, so nothing leaves this machine and the fuzzing stays fast. The fake never
fails, and random input rarely names an unknown model or passes the body cap, so every
error status is also produced on purpose (the site's failures by the emulator's faults)
and its answer checked against the document the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.messages import HELLO
from tests.support.server import served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault
from voigpt.entrypoints.server.app import create_app
from voigpt.entrypoints.server.settings import ServerSettings

KEY = "sk-schema-fuzz-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
SETTINGS = ServerSettings(api_keys=(KEY,))


def _document() -> dict[str, Any]:
    """The document an app with ``SETTINGS`` publishes (schemathesis's lazy pytest loader
    does not run on this pytest, so the schema is built at collection; the test below
    proves the running server publishes this very document)."""
    return create_app(AsyncClient(backend="fake"), SETTINGS, close_client=False).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with served(AsyncClient(backend="fake"), SETTINGS) as server:
        yield server.url


def test_the_fuzzed_document_is_the_one_the_server_publishes(server_url: str) -> None:
    published = httpx.get(f"{server_url}/openapi.json", timeout=10)
    assert published.status_code == 200
    assert published.json() == DOCUMENT
    assert set(DOCUMENT["paths"]) >= {"/v1/chat/completions", "/v1/completions", "/v1/models",
                                      "/health", RESPONSES, STORED, STORED + "/input_items"}
    # Invalid input is a 400 in OpenAI's shape, never FastAPI's 422: not documented either.
    documented = {status for operations in DOCUMENT["paths"].values()
                  for operation in operations.values() for status in operation["responses"]}
    assert "400" in documented and "422" not in documented


@schema.parametrize()
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_answer_matches_the_document(case: schemathesis.Case, server_url: str) -> None:
    response = case.call(base_url=server_url, headers=AUTH)
    if _beyond_the_schema(response):  # a documented answer all the same: checked as one
        case.validate_response(response, checks=CONFORMANCE)
        return
    case.validate_response(response, excluded_checks=[negative_data_rejection])


# What JSON Schema cannot say of a request, refused with a 400 that names it: a named tool
# choice must name one of the tools, tools' names must differ, a required choice needs
# tools, and a schema must be a valid JSON Schema (not just an object).
_CROSS_FIELD = ("tool_choice", "is used twice", "is not a valid JSON Schema", "needs tools")


def _beyond_the_schema(response: Any) -> bool:
    """A documented-valid request answered as it must be, though the document cannot say
    so: a cross-field refusal (400), or the fake backend's echo, which never fits a JSON
    format or a required call (502, ``invalid_model_reply``; Anthropic's shape has no code,
    so its message says it). OpenAI's and Anthropic's error shapes alike."""
    if response.status_code not in (400, 502):
        return False
    error = response.json().get("error") or {}
    message = str(error.get("message", ""))
    if response.status_code == 502:
        return error.get("code") == "invalid_model_reply" or \
            message.startswith("the model's reply did not fit what was asked")
    return any(part in message for part in _CROSS_FIELD)


# --- every error status, produced on purpose ----------------------------------------------

CONFORMANCE = [status_code_conformance, content_type_conformance,
               response_schema_conformance, response_headers_conformance]
CAP = 4096
LEGACY = "/v1/completions"
RESPONSES = "/v1/responses"
STORED = RESPONSES + "/{response_id}"


class Scenario(NamedTuple):
    path: str
    method: str
    status: int
    fault: tuple[Fault, str, dict[str, Any]] | None = None  # fault, endpoint, params
    body: Any = None
    headers: dict[str, str] = AUTH
    path_parameters: dict[str, str] | None = None


SCENARIOS = {
    # First, while the server has no token yet (a fresh one would make it ready unasked).
    "503-not-ready": Scenario("/health/ready", "GET", 503, (Fault.ANTI_BOT, "token", {})),
    "400-bad-role": Scenario("/v1/chat/completions", "POST", 400,
                             body={"messages": [{"role": "bot", "content": "x"}]}),
    "401-no-key": Scenario("/v1/chat/completions", "POST", 401, body={"messages": HELLO},
                           headers={}),
    "404-unknown-model": Scenario("/v1/chat/completions", "POST", 404,
                                  body={"messages": HELLO, "model": "gpt-99"}),
    "404-unknown-model-id": Scenario("/v1/models/{model_id}", "GET", 404,
                                     path_parameters={"model_id": "gpt-99"}),
    "413-over-the-cap": Scenario("/v1/chat/completions", "POST", 413,
                                 body={"messages": [{"role": "user", "content": "x" * CAP}]}),
    "429-site-rate-limit": Scenario("/v1/chat/completions", "POST", 429,
                                    (Fault.RATE_LIMITED, "generate", {"retry_after": "3"}),
                                    body={"messages": HELLO}),
    "502-site-html": Scenario("/v1/chat/completions", "POST", 502,
                              (Fault.HTML_INSTEAD_OF_JSON, "generate", {}),
                              body={"messages": HELLO}),
    "503-site-down": Scenario("/v1/chat/completions", "POST", 503,
                              (Fault.SERVER_ERROR, "generate", {"status": 503}),
                              body={"messages": HELLO}),
    "504-site-slow": Scenario("/v1/chat/completions", "POST", 504,
                              (Fault.SLOW, "generate", {"delay": 3}), body={"messages": HELLO}),
    "200-stream": Scenario("/v1/chat/completions", "POST", 200,
                           body={"messages": HELLO, "stream": True}),
    "legacy-400-echo": Scenario(LEGACY, "POST", 400, body={"prompt": "Hi", "echo": True}),
    "legacy-401-no-key": Scenario(LEGACY, "POST", 401, body={"prompt": "Hi"}, headers={}),
    "legacy-404-unknown-model": Scenario(LEGACY, "POST", 404,
                                         body={"prompt": "Hi", "model": "gpt-99"}),
    "legacy-413-over-the-cap": Scenario(LEGACY, "POST", 413, body={"prompt": "x" * CAP}),
    "legacy-502-site-html": Scenario(LEGACY, "POST", 502,
                                     (Fault.HTML_INSTEAD_OF_JSON, "generate", {}),
                                     body={"prompt": "Hi"}),
    "legacy-200": Scenario(LEGACY, "POST", 200, body={"prompt": ["Hi"]}),
    "legacy-200-stream": Scenario(LEGACY, "POST", 200,
                                  body={"prompt": "Hi", "stream": True,
                                        "stream_options": {"include_usage": True}}),
    "responses-400-tools": Scenario(RESPONSES, "POST", 400,
                                    body={"input": "Hi", "tools": [{"type": "function"}]}),
    "responses-401-no-key": Scenario(RESPONSES, "POST", 401, body={"input": "Hi"}, headers={}),
    "responses-404-unknown-model": Scenario(RESPONSES, "POST", 404,
                                            body={"input": "Hi", "model": "gpt-99"}),
    "responses-413-over-the-cap": Scenario(RESPONSES, "POST", 413, body={"input": "x" * CAP}),
    "responses-502-site-html": Scenario(RESPONSES, "POST", 502,
                                        (Fault.HTML_INSTEAD_OF_JSON, "generate", {}),
                                        body={"input": "Hi"}),
    "responses-200": Scenario(RESPONSES, "POST", 200, body={"input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]}),
    "responses-200-stream": Scenario(RESPONSES, "POST", 200,
                                     body={"input": "Hi", "stream": True}),
    "responses-404-unknown-id": Scenario(STORED, "GET", 404,
                                         path_parameters={"response_id": "resp_0"}),
    "responses-404-delete-unknown-id": Scenario(STORED, "DELETE", 404,
                                                path_parameters={"response_id": "resp_0"}),
    "responses-404-unknown-input-items": Scenario(
        STORED + "/input_items", "GET", 404, path_parameters={"response_id": "resp_0"}),
}



@pytest.fixture(scope="module")
def site_server_url(site: Emulator) -> Iterator[str]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=1, environ={})
    with served(client, ServerSettings(api_keys=(KEY,), max_body_bytes=CAP)) as server:
        yield server.url


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_error_the_server_answers_is_documented(
    site: Emulator, site_server_url: str, scenario: Scenario
) -> None:
    site.clear_faults()
    if scenario.fault is not None:
        fault, endpoint, params = scenario.fault
        site.inject(fault, endpoint=endpoint, **params)
    operation = schema[scenario.path][scenario.method]
    case = operation.Case(
        body=scenario.body if scenario.body is not None else schemathesis.core.NOT_SET,
        path_parameters=scenario.path_parameters,
        media_type="application/json" if scenario.body is not None else None,
    )
    response = case.call(base_url=site_server_url, headers=scenario.headers)
    assert response.status_code == scenario.status, response.text
    case.validate_response(response, checks=CONFORMANCE)
