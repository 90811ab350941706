"""instructor, as its users run it, against ``voigpt serve``'s chat route: its default
``TOOLS`` mode, its ``JSON`` mode and its ``MD_JSON`` mode, each asking for a pydantic
object. The server runs here on a real uvicorn over the real emulator, whose replies each
test scripts; instructor runs in a fresh interpreter of its own venv, because it pins
``jiter<0.15`` and the openai SDK the other tests use needs a newer one
(``tests.support.client_venvs``)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client_venvs import clean_environment, client_python
from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

INSTRUCTOR = "instructor==1.17.0"
KEY = "sk-instructor-user-key"
ASK = "What is the weather in Paris?"
ANSWER = '{"city": "Paris", "celsius": 21}'
SCRIPT = """
import sys

import instructor
import openai
import pydantic


class Weather(pydantic.BaseModel):
    '''The weather in a city.'''

    city: str
    celsius: int


base_url, key, mode, question = sys.argv[1:5]
sdk = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)
client = instructor.from_openai(sdk) if mode == "default" else instructor.from_openai(
    sdk, mode=getattr(instructor.Mode, mode))
weather = client.chat.completions.create(
    model="gpt-3.5-turbo", response_model=Weather, max_retries=0,
    messages=[{"role": "user", "content": question}])
print(weather.model_dump_json())
"""


@pytest.fixture(scope="session")
def instructor_python() -> Path:
    return client_python("instructor-1.17.0", [[INSTRUCTOR]], "import instructor, openai")


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=10, environ={})
    with served(client, ServerSettings(api_keys=(KEY,))) as running:
        yield running


def run(python: Path, server: Served, mode: str, tmp_path: Path) -> Any:
    done = subprocess.run([python, "-c", SCRIPT, server.v1, KEY, mode, ASK], cwd=tmp_path,
                          env=clean_environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def posts(emulator: Emulator) -> list[Any]:
    return [request.json() for request in emulator.requests if request.method == "POST"]


@pytest.mark.parametrize(("mode", "reply"), [
    ("default", f'{{"name": "Weather", "arguments": {ANSWER}}}'),  # TOOLS: a call of Weather
    ("JSON", f"Here it is:\n```json\n{ANSWER}\n```"),  # response_format json_object
    ("MD_JSON", f"```json\n{ANSWER}\n```"),  # no format asked: instructor reads the fence
])
def test_instructor_gets_its_pydantic_object(instructor_python: Path, server: Served,
                                             emulator: Emulator, mode: str, reply: str,
                                             tmp_path: Path) -> None:
    emulator.queue_replies(reply)

    assert run(instructor_python, server, mode, tmp_path) == {"city": "Paris", "celsius": 21}

    (sent,) = posts(emulator)
    assert "celsius" in json.dumps(sent)  # the schema: in voigpt's prompt, or instructor's
    told = sent["messages"][-1]
    if mode == "MD_JSON":  # plain text asked: voigpt adds nothing, instructor asks
        assert not any(("You can call the tools below" in m["content"] or
                        "answer must be only a JSON object" in m["content"])
                       for m in sent["messages"])
    else:
        assert told["role"] == "system" and "JSON" in told["content"]
    assert KEY not in json.dumps(sent)


def test_instructors_tools_mode_gets_voigpts_one_repair(instructor_python: Path,
                                                        server: Served, emulator: Emulator,
                                                        tmp_path: Path) -> None:
    emulator.queue_replies('{"name": "Weather", "arguments": {"city": "Paris"}}',
                           f'{{"name": "Weather", "arguments": {ANSWER}}}')
    repairs = metric(server.url, "voigpt_model_reply_repairs_total")

    assert run(instructor_python, server, "default", tmp_path)["celsius"] == 21

    _, second = posts(emulator)  # voigpt's own repair, not an instructor retry
    assert second["messages"][-2] == {"role": "assistant", "content":
                                      '{"name": "Weather", "arguments": {"city": "Paris"}}'}
    assert "'celsius' is a required property" in second["messages"][-1]["content"]
    assert metric(server.url, "voigpt_model_reply_repairs_total") == repairs + 1
