"""``voigpt serve --responses-max/--responses-ttl`` as a person runs it, a separate process
driven by the openai SDK: responses are stored and chained by default, ``--responses-max
0`` (or ``VOIGPT_RESPONSES_MAX=0``, what each ``--workers`` process reads) stores none, a
short time to live forgets them, and a bad value exits 2 naming the flag or variable
before anything binds."""

from __future__ import annotations

import time

import openai
import pytest

from tests.support.cli import run_cli
from tests.support.messages import FAKE_REPLY
from tests.support.server import ServeProcess


def sdk(process: ServeProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=process.v1, api_key="sk-unused", max_retries=0)


def test_by_default_a_response_is_stored_and_can_be_continued() -> None:
    with ServeProcess("--backend", "fake") as process, sdk(process) as client:
        first = client.responses.create(model="gpt-3.5-turbo", input="Hello")
        again = client.responses.create(model="gpt-3.5-turbo", input="Again",
                                        previous_response_id=first.id)
        assert client.responses.retrieve(first.id).output_text == FAKE_REPLY
    assert again.output_text == FAKE_REPLY.replace("Hello", "Again")


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--responses-max", "0"], {}), ([], {"VOIGPT_RESPONSES_MAX": "0"})],
    ids=["flag", "variable"],
)
def test_a_cap_of_zero_stores_nothing(args: list[str], env: dict[str, str]) -> None:
    with ServeProcess("--backend", "fake", *args, env=env) as process, sdk(process) as client:
        first = client.responses.create(model="gpt-3.5-turbo", input="Hello")
        assert first.output_text == FAKE_REPLY
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(first.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="gpt-3.5-turbo", input="Again",
                                    previous_response_id=first.id)


def test_a_response_is_forgotten_after_its_time_to_live() -> None:
    with ServeProcess("--backend", "fake", "--responses-ttl", "1") as process, \
            sdk(process) as client:
        first = client.responses.create(model="gpt-3.5-turbo", input="Hello")
        assert client.responses.retrieve(first.id).id == first.id
        time.sleep(1.2)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(first.id)


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--responses-max", "-1"], {}, "--responses-max"),
        (["--responses-ttl", "0"], {}, "--responses-ttl"),
        ([], {"VOIGPT_RESPONSES_TTL": "forever"}, "VOIGPT_RESPONSES_TTL"),
    ],
    ids=["max-negative", "ttl-zero", "ttl-variable"],
)
def test_a_bad_value_exits_2_naming_it(args: list[str], env: dict[str, str],
                                       named: str) -> None:
    result = run_cli("serve", "--port", "0", *args, env=env)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
