"""The Responses API's answer, written by hand on the hot path (``encoded_response``), is
the encoder's JSON of the ``response`` object, character for character, whatever the
request echoes."""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from voigpt.domain.values import Conversation
from voigpt.entrypoints import responses_format as shapes
from voigpt.entrypoints.server.responses_protocol import ID_PATTERN

OPTIONS: dict[str, list[Any]] = {
    "instructions": [None, 'sé"\\\n'], "max_output_tokens": [None, 7],
    "parallel_tool_calls": [None, False, True], "previous_response_id": [None, "resp_abc"],
    "store": [None, True, False], "temperature": [None, 0, 0.2, 2.0], "top_p": [None, 1e-7, 1],
    "user": [None, "ü"], "metadata": [None, {}, {"a": "b", "ç": "\u0000"}],
}
CONVERSATION = Conversation.from_dicts([{"role": "system", "content": 'be é "x"'},
                                        {"role": "user", "content": "ping\n\u2028 \U0001f600"}])


def test_the_hand_written_answer_is_the_encoders_json_of_the_response_object() -> None:
    for values in itertools.product(*OPTIONS.values()):
        options = dict(zip(OPTIONS, values, strict=True))
        for text in ("x", "", 'é "\u2028\u0001'):
            item = shapes.output_item(shapes.item_id(), text)
            fields: dict[str, Any] = {"id": shapes.response_id(), "created_at": 1796330092,
                                      "model": "gpt-3.5-turbo"}
            written = shapes.encoded_response(options, **fields, conversation=CONVERSATION,
                                              item=item)
            assert written == json.dumps(
                shapes.response(options, **fields, conversation=CONVERSATION, item=item),
                ensure_ascii=False, separators=(",", ":"))


def test_response_ids_sort_in_the_order_they_were_made_and_are_valid_ids() -> None:
    """The time first (microseconds), then 96 random bits: a store's key index takes each
    new id at its end. Every id is one ``previous_response_id`` accepts."""
    made = [shapes.response_id() for _ in range(200)]
    times = [x[:19] for x in made]  # ids made in the same microsecond: in any order
    assert times == sorted(times) and len(set(times)) > 1 and len(set(made)) == len(made)
    assert all(re.fullmatch(ID_PATTERN, x) and len(x) == len("resp_") + 14 + 24 for x in made)
    stamp = int(made[0][5:19], 16) / 1e6  # the microseconds it was made at
    assert abs(stamp - time.time()) < 60
