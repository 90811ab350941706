"""``/v1/messages`` and ``/v1/messages/count_tokens`` answer as ``/openapi.json`` says, in
every error status: each produced on purpose (the site's failures by the emulator's faults)
and checked against the document as ``test_server_schema_fuzz.py`` checks the chat route,
which also fuzzes both routes with generated input (no 5xx). Every error here is in
Anthropic's shape, with the status the chat route would answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_server_schema_fuzz import AUTH, CAP, CONFORMANCE, DOCUMENT, KEY, schema
from tests.support.messages import HELLO
from tests.support.server import served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault
from voigpt.entrypoints.server.settings import ServerSettings

MESSAGES, COUNT = "/v1/messages", "/v1/messages/count_tokens"
VALID = {"model": "gpt-3.5-turbo", "max_tokens": 16, "messages": HELLO}
Fault_ = tuple[Fault, dict[str, Any]]
SCENARIOS: dict[str, tuple[str, int, Fault_ | None, dict[str, Any], dict[str, str]]] = {
    "400-no-max-tokens": (MESSAGES, 400, None, {"model": "", "messages": HELLO}, AUTH),
    "400-image": (MESSAGES, 400, None, {**VALID, "messages": [
        {"role": "user", "content": [{"type": "image", "source": {}}]}]}, AUTH),
    "400-tools": (MESSAGES, 400, None, {**VALID, "tools": [{"name": "f"}]}, AUTH),
    "400-server-tool": (MESSAGES, 400, None, {**VALID, "tools": [
        {"type": "web_search_20250305", "name": "web_search"}]}, AUTH),
    "401-wrong-x-api-key": (MESSAGES, 401, None, VALID, {"x-api-key": "sk-wrong"}),
    "404-unknown-model": (MESSAGES, 404, None, {**VALID, "model": "claude-9"}, AUTH),
    "413-over-the-cap": (MESSAGES, 413, None, {**VALID, "messages": [
        {"role": "user", "content": "x" * CAP}]}, AUTH),
    "429-site-rate-limit": (MESSAGES, 429, (Fault.RATE_LIMITED, {"retry_after": "3"}),
                            VALID, AUTH),
    "502-site-html": (MESSAGES, 502, (Fault.HTML_INSTEAD_OF_JSON, {}), VALID, AUTH),
    "503-site-down": (MESSAGES, 503, (Fault.SERVER_ERROR, {"status": 503}), VALID, AUTH),
    "504-site-slow": (MESSAGES, 504, (Fault.SLOW, {"delay": 3}), VALID, AUTH),
    "200": (MESSAGES, 200, None, VALID, {"x-api-key": KEY}),
    "200-stream": (MESSAGES, 200, None, {**VALID, "stream": True}, AUTH),
    "count-200": (COUNT, 200, None, {**VALID, "system": [{"type": "text", "text": "Hi"}]},
                  AUTH),
    "count-400-tools": (COUNT, 400, None, {**VALID, "tools": [{"name": "f"}]}, AUTH),
    "count-401-no-key": (COUNT, 401, None, VALID, {}),
    "count-404-unknown-model": (COUNT, 404, None, {**VALID, "model": "claude-9"}, AUTH),
}


def test_both_routes_are_documented_with_anthropics_error_model() -> None:
    for path in (MESSAGES, COUNT):
        responses = DOCUMENT["paths"][path]["post"]["responses"]
        assert {"200", "400", "401", "404", "413"} <= set(responses)
        assert responses["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/AnthropicError"}
    assert "text/event-stream" in DOCUMENT["paths"][MESSAGES]["post"]["responses"]["200"][
        "content"]


@pytest.fixture(scope="module")
def server_url(site: Emulator) -> Iterator[str]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=1, environ={})
    with served(client, ServerSettings(api_keys=(KEY,), max_body_bytes=CAP)) as server:
        yield server.url


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_answer_of_the_messages_api_is_documented(
    site: Emulator, server_url: str, name: str
) -> None:
    path, status, fault, body, headers = SCENARIOS[name]
    site.clear_faults()
    if fault is not None:
        site.inject(fault[0], endpoint="generate", **fault[1])
    case = schema[path]["POST"].Case(body=body, media_type="application/json")
    response = case.call(base_url=server_url, headers=headers)
    assert response.status_code == status, response.text
    case.validate_response(response, checks=CONFORMANCE)
    if status != 200:
        assert list(response.json()) == ["type", "error"], response.text

