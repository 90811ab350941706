"""``voigpt serve --model-alias`` as a person runs it, a separate process driven by the
openai SDK: the alias from the flag, or from ``VOIGPT_MODEL_ALIASES`` (what each
``--workers`` process reads its settings from), answered by ``gpt-3.5-turbo``."""

from __future__ import annotations

import openai
import pytest

from tests.support.messages import FAKE_REPLY, HELLO
from tests.support.server import ServeProcess


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--model-alias", "gpt-4o*", "--model-alias", "o3"], {}),
        ([], {"VOIGPT_MODEL_ALIASES": "gpt-4o*,o3"}),
    ],
    ids=["flag", "variable"],
)
def test_an_alias_from_the_flag_or_the_variable_is_served_by_the_sites_model(
    args: list[str], env: dict[str, str]
) -> None:
    with ServeProcess("--backend", "fake", *args, env=env) as process, openai.OpenAI(
        base_url=process.v1, api_key="sk-unused", max_retries=0
    ) as client:
        chat = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)  # type: ignore[arg-type]
        legacy = client.completions.create(model="o3", prompt="Hello")
        listed = [model.id for model in client.models.list()]
        with pytest.raises(openai.NotFoundError):
            client.completions.create(model="gpt-5", prompt="Hello")
    assert (chat.model, legacy.model) == ("gpt-3.5-turbo", "gpt-3.5-turbo")
    assert chat.choices[0].message.content == legacy.choices[0].text == FAKE_REPLY
    assert listed == ["gpt-3.5-turbo", "o3"]
