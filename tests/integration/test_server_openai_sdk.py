"""``voigpt serve`` met by its first real client, the official ``openai`` SDK (sync and
async, plain and streamed): the objects it parses, the error classes it raises for each
status, and its own retries against our 429 and 503. The server runs in this process on a
real uvicorn, over voigpt's real aiohttp path to the bundled emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import openai
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault

MODEL = "gpt-3.5-turbo"


def posts(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.method == "POST")



@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    """One server for the module; voigpt's own retries off, so that what the emulator sees
    is the SDK's doing."""
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client) as running:
        yield running



@pytest.fixture
def sdk(server: Served) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.v1, api_key="sk-unused", max_retries=0) as client:
        yield client


# --- completions ----------------------------------------------------------------------


def test_the_sync_sdk_gets_a_chat_completion_with_the_sites_reply(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    completion = sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == MODEL
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert (choice.index, choice.finish_reason, choice.logprobs) == (0, "stop", None)
    assert choice.message.role == "assistant"
    assert choice.message.content == EMULATOR_REPLY
    assert choice.message.tool_calls is None
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert emulator.requests[-1].json() == {"messages": HELLO}


def test_the_sdk_default_model_and_a_developer_message_are_accepted(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    completion = sdk.chat.completions.create(
        model="", messages=[{"role": "developer", "content": "Be brief."}, *HELLO]  # type: ignore[list-item]
    )
    assert completion.model == MODEL
    assert completion.choices[0].message.content == EMULATOR_REPLY
    sent = emulator.requests[-1].json()
    assert sent == {"messages": [{"role": "system", "content": "Be brief."}, *HELLO]}


def test_sampling_parameters_from_the_sdk_are_accepted_and_not_sent_upstream(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    completion = sdk.chat.completions.create(
        model=MODEL, messages=HELLO,  # type: ignore[arg-type]
        temperature=0.2, top_p=0.9, max_tokens=7, max_completion_tokens=7, stop=["\n"],
        seed=1, user="user-1", presence_penalty=0.5, frequency_penalty=-0.5,
        logit_bias={"50256": -100}, n=1, response_format={"type": "text"}, logprobs=False,
        tool_choice="none", parallel_tool_calls=False, store=False, metadata={"k": "v"},
    )
    assert completion.choices[0].message.content == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": HELLO}


def test_the_sdk_streams_role_then_content_then_finish_reason(sdk: openai.OpenAI) -> None:
    chunks = list(sdk.chat.completions.create(model=MODEL, messages=HELLO, stream=True))  # type: ignore[arg-type]
    assert [chunk.object for chunk in chunks] == ["chat.completion.chunk"] * 3
    assert len({chunk.id for chunk in chunks}) == 1
    first, content, last = (chunk.choices[0] for chunk in chunks)
    assert first.delta.role == "assistant" and not first.delta.content
    assert content.delta.content == EMULATOR_REPLY and content.finish_reason is None
    assert last.finish_reason == "stop" and not last.delta.content
    assert all(chunk.usage is None for chunk in chunks)


def test_the_sdk_stream_ends_with_a_usage_chunk_when_asked_for(sdk: openai.OpenAI) -> None:
    whole = sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    chunks = list(sdk.chat.completions.create(
        model=MODEL, messages=HELLO, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    ))
    assert len(chunks) == 4
    assert all(chunk.usage is None for chunk in chunks[:3])
    assert chunks[-1].choices == []
    assert chunks[-1].usage == whole.usage
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks[:3])
    assert text == EMULATOR_REPLY


def test_the_async_sdk_gets_concurrent_completions_and_streams(
    server: Served, emulator: Emulator
) -> None:
    async def main() -> tuple[list[str | None], str]:
        async with openai.AsyncOpenAI(base_url=server.v1, api_key="k", max_retries=0) as sdk:
            completions = await asyncio.gather(*(
                sdk.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": f"Question {n}"}]
                )
                for n in range(5)
            ))
            stream = await sdk.chat.completions.create(model=MODEL, messages=HELLO, stream=True)  # type: ignore[arg-type]
            streamed = "".join([c.choices[0].delta.content or "" async for c in stream])
        return [c.choices[0].message.content for c in completions], streamed

    replies, streamed = asyncio.run(main())
    assert replies == [f"[voigpt emulator] You said: Question {n}" for n in range(5)]
    assert streamed == EMULATOR_REPLY
    assert posts(emulator) == 6
    tokens = {r.headers["x-csrftoken"] for r in emulator.requests if r.method == "POST"}
    assert len(tokens) == 1  # one token shared by every request


# --- models ---------------------------------------------------------------------------


def test_the_sdk_lists_and_retrieves_the_model(sdk: openai.OpenAI) -> None:
    models = list(sdk.models.list())
    assert [model.id for model in models] == [MODEL]
    model = sdk.models.retrieve(MODEL)
    assert (model.id, model.object, model.owned_by) == (MODEL, "model", "voigpt")
    assert model.created == models[0].created > 0


def test_the_sdk_raises_not_found_for_an_unknown_model(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        sdk.models.retrieve("gpt-4")
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError) as info:
        sdk.chat.completions.create(model="gpt-4", messages=HELLO)  # type: ignore[arg-type]
    assert (info.value.param, info.value.code) == ("model", "model_not_found")


# --- error classes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"messages": [*HELLO, {"role": "robot", "content": "x"}]}, "messages[1].role"),
        ({"n": 2}, "n"),
        ({"tools": [{"type": "web_search"}]}, "tools[0]"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
         "response_format.json_schema.schema"),
        ({"logprobs": True}, "logprobs"),
    ],
    ids=["role", "n", "tools", "functions", "response_format", "logprobs"],
)
def test_the_sdk_raises_bad_request_naming_the_parameter(
    sdk: openai.OpenAI, emulator: Emulator, extra: dict[str, object], param: str
) -> None:
    arguments: dict[str, object] = {"model": MODEL, "messages": HELLO, **extra}
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(**arguments)  # type: ignore[call-overload]
    assert info.value.status_code == 400
    assert info.value.param == param
    assert info.value.type == "invalid_request_error"
    assert emulator.requests == []  # refused before anything went upstream


def test_the_sdk_raises_authentication_error_for_a_wrong_key(emulator: Emulator) -> None:
    client = AsyncClient(base_url=emulator.url, retries=0, environ={})
    with served(client, api_keys=("sk-right",)) as server:
        with openai.OpenAI(
            base_url=server.v1, api_key="sk-wrong", max_retries=0
        ) as sdk, pytest.raises(openai.AuthenticationError) as info:
            sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
        assert info.value.code == "invalid_api_key"
        with openai.OpenAI(base_url=server.v1, api_key="sk-right", max_retries=0) as sdk:
            reply = sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
        assert reply.choices[0].message.content == EMULATOR_REPLY


@pytest.mark.parametrize(
    ("fault", "params", "error", "status"),
    [
        (Fault.RATE_LIMITED, {"retry_after": "3"}, openai.RateLimitError, 429),
        (Fault.SERVER_ERROR, {"status": 503}, openai.InternalServerError, 503),
        (Fault.HTML_INSTEAD_OF_JSON, {}, openai.InternalServerError, 502),
        (Fault.ANTI_BOT, {}, openai.InternalServerError, 502),
    ],
    ids=["429", "503", "502-malformed", "502-blocked"],
)
def test_the_sdk_raises_the_class_for_each_upstream_failure(
    sdk: openai.OpenAI, emulator: Emulator, fault: Fault, params: dict[str, object],
    error: type[openai.APIStatusError], status: int,
) -> None:
    emulator.inject(fault, **params)
    with pytest.raises(error) as info:
        sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == status
    assert info.value.type in ("requests", "server_error")


def test_a_failed_stream_raises_before_the_first_chunk(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.inject(Fault.SERVER_ERROR, status=503)
    with pytest.raises(openai.InternalServerError) as info:
        sdk.chat.completions.create(model=MODEL, messages=HELLO, stream=True)  # type: ignore[arg-type]
    assert info.value.status_code == 503


def test_the_sdk_raises_a_504_status_error_when_the_deadline_passes() -> None:
    with Emulator() as emulator:
        emulator.inject(Fault.SLOW, delay=5)
        client = AsyncClient(base_url=emulator.url, retries=0, timeout=0.5, environ={})
        with served(client) as server, openai.OpenAI(
            base_url=server.v1, api_key="k", max_retries=0
        ) as sdk, pytest.raises(openai.InternalServerError) as info:
            sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == 504
    assert info.value.code == "upstream_timeout"


# --- the SDK's own retries ------------------------------------------------------------


def test_the_sdk_retries_our_429_after_the_sites_retry_after_and_succeeds(
    server: Served, emulator: Emulator
) -> None:
    emulator.inject(Fault.RATE_LIMITED, retry_after=1)
    with openai.OpenAI(base_url=server.v1, api_key="k", max_retries=2) as sdk:
        started = time.monotonic()
        completion = sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
        waited = time.monotonic() - started
    assert completion.choices[0].message.content == EMULATOR_REPLY
    assert posts(emulator) == 2  # the rate-limited try and the SDK's retry
    # The SDK's own first backoff is at most 0.5 s: waiting ~1 s means it read our
    # Retry-After, which passed on the site's.
    assert waited >= 0.9


def test_the_sdk_retries_our_503_and_succeeds(server: Served, emulator: Emulator) -> None:
    emulator.inject(Fault.SERVER_ERROR, status=503)
    with openai.OpenAI(base_url=server.v1, api_key="k", max_retries=2) as sdk:
        completion = sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == EMULATOR_REPLY
    assert posts(emulator) == 2


def test_the_sdk_gives_up_on_a_lasting_outage_after_its_retries(
    server: Served, emulator: Emulator
) -> None:
    emulator.inject(Fault.SERVER_ERROR, status=503, times=None)
    with openai.OpenAI(base_url=server.v1, api_key="k", max_retries=2) as sdk, pytest.raises(
        openai.InternalServerError
    ):
        sdk.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert posts(emulator) == 3


def test_the_sdk_does_not_retry_a_bad_request(server: Served) -> None:
    def answered() -> float:
        return metric(server.url, "voigpt_server_requests_total", status="400")

    before = answered()
    with openai.OpenAI(base_url=server.v1, api_key="k", max_retries=2) as sdk, pytest.raises(
        openai.BadRequestError
    ):
        sdk.chat.completions.create(model=MODEL, messages=HELLO, n=3)  # type: ignore[arg-type]
    assert answered() == before + 1
