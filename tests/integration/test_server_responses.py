"""OpenAI's Responses API (``POST /v1/responses`` and the stored responses) met by the
official ``openai`` SDK's ``client.responses``: plain, streamed (OpenAI's event order, each
event numbered), chained with ``previous_response_id`` (the history goes upstream),
retrieved, listed and deleted; refusals by name; a stored response is another key's 404;
hostile ids are clean 4xx. The server runs in this process on a real uvicorn, over
voigpt's real aiohttp path to the bundled emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, error_of, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault
from voigpt.entrypoints.server.settings import ServerSettings

MODEL = "gpt-3.5-turbo"
KEY, OTHER_KEY = "sk-responses-key", "sk-another-key"
EVENTS = [
    "response.created", "response.in_progress", "response.output_item.added",
    "response.content_part.added", "response.output_text.delta", "response.output_text.done",
    "response.content_part.done", "response.output_item.done", "response.completed",
]


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    settings = ServerSettings(api_keys=(KEY, OTHER_KEY), max_body_bytes=8192,
                              model_aliases=("gpt-5*",))
    with served(client, settings) as running:
        yield running


@pytest.fixture
def sdk(server: Served) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.v1, api_key=KEY, max_retries=0) as client:
        yield client


@pytest.fixture
def other(server: Served) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.v1, api_key=OTHER_KEY, max_retries=0) as client:
        yield client


def test_the_sdk_gets_a_response_with_the_sites_reply(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    response = sdk.responses.create(model=MODEL, input="Hello", temperature=0.2, top_p=0.5,
                                    max_output_tokens=50, reasoning={"effort": "low"},
                                    text={"verbosity": "low"}, metadata={"a": "b"}, user="u",
                                    truncation="auto", parallel_tool_calls=False,
                                    tools=[], include=[])
    assert response.id.startswith("resp_") and response.object == "response"
    assert (response.status, response.model, response.error) == ("completed", MODEL, None)
    assert response.incomplete_details is None
    assert response.output_text == EMULATOR_REPLY
    [item] = response.output
    assert item.type == "message" and item.id.startswith("msg_") and item.role == "assistant"
    assert [part.type for part in item.content] == ["output_text"]
    usage = response.usage
    assert usage is not None and usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert emulator.requests[-1].json() == {"messages": HELLO}


def test_instructions_and_items_are_the_conversation_sent(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    sdk.responses.create(model=MODEL, instructions="Be brief.", input=[
        {"role": "developer", "content": "Use English."},
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "Hi, "}, {"type": "input_text",
                                                             "text": "there"}]},
        {"type": "message", "role": "assistant",
         "content": [{"type": "output_text", "text": "Hello!", "annotations": []}]},
        {"role": "user", "content": "Hello"},
    ])
    assert emulator.requests[-1].json() == {"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "system", "content": "Use English."},
        {"role": "user", "content": "Hi, there"}, {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Hello"},
    ]}


def test_the_sdk_streams_openais_events_in_order(sdk: openai.OpenAI) -> None:
    events = list(sdk.responses.create(model=MODEL, input="Hello", stream=True))
    assert [event.type for event in events] == EVENTS
    assert [event.sequence_number for event in events] == list(range(len(EVENTS)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == EMULATOR_REPLY
    final = events[-1].response  # type: ignore[union-attr]
    assert final.output_text == EMULATOR_REPLY and final.status == "completed"
    assert final.usage is not None
    with sdk.responses.stream(model=MODEL, input="Hello") as stream:
        assert stream.get_final_response().output_text == EMULATOR_REPLY


def test_a_chain_sends_the_history_and_the_stored_response_can_be_read_and_deleted(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    first = sdk.responses.create(model=MODEL, input="Hello", instructions="Be brief.")
    second = sdk.responses.create(model=MODEL, input="Again", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert emulator.requests[-1].json() == {"messages": [
        {"role": "user", "content": "Hello"}, {"role": "assistant", "content": EMULATOR_REPLY},
        {"role": "user", "content": "Again"},
    ]}
    third = sdk.responses.create(model=MODEL, input="More", previous_response_id=second.id)
    assert len(emulator.requests[-1].json()["messages"]) == 5  # type: ignore[index]
    assert sdk.responses.retrieve(third.id).output_text == third.output_text
    assert sdk.responses.retrieve(first.id).id == first.id
    items = sdk.responses.input_items.list(second.id)
    assert [(item.role, item.content[0].text) for item in items.data] == [  # type: ignore[union-attr]
        ("user", "Again")]
    sdk.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError) as info:
        sdk.responses.create(model=MODEL, input="Hi", previous_response_id=first.id)
    assert info.value.body["code"] == "previous_response_not_found"  # type: ignore[index]


def test_input_items_page_in_either_order(sdk: openai.OpenAI) -> None:
    made = sdk.responses.create(model=MODEL, input=[{"role": "user", "content": str(n)}
                                                    for n in range(5)])
    newest_first = [item.content[0].text  # type: ignore[union-attr]
                    for item in sdk.responses.input_items.list(made.id, limit=2)]
    assert newest_first == ["4", "3", "2", "1", "0"]  # the SDK follows the pages
    oldest = sdk.responses.input_items.list(made.id, order="asc", limit=10)
    assert [i.content[0].text for i in oldest.data] == list("01234")  # type: ignore[union-attr]
    assert oldest.has_more is False and oldest.first_id == oldest.data[0].id


def test_store_false_stores_nothing(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model=MODEL, input="Hello", store=False)
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(response.id)


def test_another_key_can_neither_read_nor_delete_nor_continue(
    sdk: openai.OpenAI, other: openai.OpenAI
) -> None:
    mine = sdk.responses.create(model=MODEL, input="Hello")
    for attempt in (lambda: other.responses.retrieve(mine.id),
                    lambda: other.responses.delete(mine.id),
                    lambda: other.responses.input_items.list(mine.id)):
        with pytest.raises(openai.NotFoundError):
            attempt()
    with pytest.raises(openai.NotFoundError):
        other.responses.create(model=MODEL, input="Hi", previous_response_id=mine.id)
    assert sdk.responses.retrieve(mine.id).id == mine.id


@pytest.mark.parametrize(("hostile", "status"), [
    ("resp_" + "0" * 40, 404), ("resp_" + "a" * 5000, 400), ("../../etc/passwd", 400),
    ("resp_../x", 400), ("resp_%00", 400), ("", 400), ("msg_123", 400), ("resp_a b", 400),
])
def test_a_hostile_previous_response_id_is_a_clean_4xx(
    server: Served, emulator: Emulator, hostile: str, status: int
) -> None:
    response = httpx.post(server.v1 + "/responses", headers=_auth(), timeout=10,
                          json={"input": "Hi", "previous_response_id": hostile})
    assert error_of(response, status)["param"] == "previous_response_id"
    assert not emulator.requests


@pytest.mark.parametrize("hostile", ["resp_" + "0" * 40, "resp_" + "a" * 3000, "..%2F..%2Fx",
                                     "resp_%2e%2e", "%00"])
def test_a_hostile_id_in_the_path_is_a_clean_4xx(server: Served, hostile: str) -> None:
    for method in ("GET", "DELETE"):
        response = httpx.request(method, f"{server.v1}/responses/{hostile}", headers=_auth(),
                                 timeout=10)
        error = error_of(response, 404)
        if "%2F" not in hostile:  # one path segment: the route's own 404, OpenAI's
            assert error["code"] == "not_found" and "not found" in str(error["message"])


@pytest.mark.parametrize(("options", "param"), [
    ({"tools": [{"type": "web_search_preview"}]}, "tools[0]"),
    ({"text": {"format": {"type": "xml"}}}, "text.format.type"),
    ({"include": ["message.output_text.logprobs"]}, "include[0]"),
    ({"background": True}, "background"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
     "input"),
    ({"input": [{"type": "function_call_output", "call_id": 7, "output": "x"}]}, "input"),
    ({"input": [{"role": "tool", "content": "x"}]}, "input"),
])
def test_what_cannot_be_honoured_is_refused_by_name(
    server: Served, emulator: Emulator, options: dict[str, Any], param: str
) -> None:
    response = httpx.post(server.v1 + "/responses", headers=_auth(), timeout=10,
                          json={"model": MODEL, "input": "Hello", **options})
    error = error_of(response, 400)
    assert error["param"] == param, error
    assert param.partition("[")[0].partition(".")[0] in str(error["message"])
    assert not emulator.requests


def test_the_model_rule_and_an_alias(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        sdk.responses.create(model="gpt-4o", input="Hello")
    assert info.value.body["code"] == "model_not_found"  # type: ignore[index]
    assert sdk.responses.create(model="gpt-5-mini", input="Hello").model == MODEL


def test_the_route_needs_a_key_and_keeps_the_sites_status(
    server: Served, sdk: openai.OpenAI, emulator: Emulator
) -> None:
    response = httpx.post(server.v1 + "/responses", json={"input": "Hi"}, timeout=10)
    assert error_of(response, 401)["code"] == "invalid_api_key"
    emulator.inject(Fault.RATE_LIMITED, endpoint="generate", retry_after="3")
    with pytest.raises(openai.RateLimitError):
        sdk.responses.create(model=MODEL, input="Hello", stream=True)


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}
