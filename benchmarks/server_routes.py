"""What the server benchmark sends to each API route of ``voigpt serve`` (and of its floor),
and how it tells a right answer: each body as the route's own SDK sends it (minus telemetry
headers), one user message "ping", and an answer right only with status 200 and the
emulator's reply to it in the route's own place.

- chat: OpenAI's ``POST /v1/chat/completions``; ``choices[0].message.content``.
- responses: OpenAI's ``POST /v1/responses`` with a string input and no ``store`` (so the
  response is stored, the default); ``output[0].content[0].text``, ``store`` true and
  ``status`` completed.
- messages: Anthropic's ``POST /v1/messages`` with ``max_tokens`` 256 and the
  ``anthropic-version`` header (no key: the benchmarked server has none);
  ``content[0].text``.
- completions: OpenAI's legacy ``POST /v1/completions`` with a string prompt;
  ``choices[0].text``.

``varied_chat`` is the chat route with a different message on each request (a rotation of
them), to fill the reply cache; ``site_completion`` is the site's own protocol, to load an
upstream alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from benchmarks.clients import EXPECTED, MESSAGES
from benchmarks.server_load import Check, Rotation, Target, post, request_bytes

CHAT, RESPONSES, MESSAGES_ROUTE, COMPLETIONS = "chat", "responses", "messages", "completions"
ROUTES = (CHAT, RESPONSES, MESSAGES_ROUTE, COMPLETIONS)
PATHS = {CHAT: "/v1/chat/completions", RESPONSES: "/v1/responses",
         MESSAGES_ROUTE: "/v1/messages", COMPLETIONS: "/v1/completions"}
MODEL = "gpt-3.5-turbo"
PROMPT = MESSAGES[0]["content"]
REPLY_PREFIX = EXPECTED.removesuffix(PROMPT)  # the emulator's reply, before the prompt
JSON_ACCEPT = {"Accept": "application/json"}


def label(route: str) -> str:
    """``POST /v1/...`` of an API route (any other string as it is)."""
    if route not in PATHS:
        return route
    return f"POST {PATHS[route]}" + (" (stored)" if route == RESPONSES else "")


def route_target(url: str, route: str) -> Target:
    """The request of ``route`` to the server at ``url``."""
    return {CHAT: chat_completions, RESPONSES: responses_create,
            MESSAGES_ROUTE: messages_create, COMPLETIONS: legacy_completion}[route](url)


def chat_completions(url: str) -> Target:
    """OpenAI's ``POST /v1/chat/completions`` with one user message, as the openai SDK
    sends it (minus its telemetry headers)."""
    body = json.dumps({"model": MODEL, "messages": MESSAGES}).encode()
    return post(url, PATHS[CHAT], body, JSON_ACCEPT, check_completion)


def responses_create(url: str) -> Target:
    """OpenAI's ``POST /v1/responses`` with a string input, as the openai SDK's
    ``responses.create`` sends it: no ``store``, so the response is stored (the default)."""
    body = json.dumps({"model": MODEL, "input": PROMPT}).encode()
    return post(url, PATHS[RESPONSES], body, JSON_ACCEPT, check_response)


def messages_create(url: str) -> Target:
    """Anthropic's ``POST /v1/messages``, as the anthropic SDK's ``messages.create`` sends
    it (its ``anthropic-version`` header; no key, the server has none)."""
    body = json.dumps({"model": MODEL, "max_tokens": 256, "messages": MESSAGES}).encode()
    return post(url, PATHS[MESSAGES_ROUTE], body,
                {**JSON_ACCEPT, "anthropic-version": "2023-06-01"}, check_message)


def legacy_completion(url: str) -> Target:
    """OpenAI's legacy ``POST /v1/completions`` with a string prompt."""
    body = json.dumps({"model": MODEL, "prompt": PROMPT}).encode()
    return post(url, PATHS[COMPLETIONS], body, JSON_ACCEPT, check_text_completion)


def varied_chat(url: str, count: int) -> Target:
    """The chat route with ``count`` different user messages sent in turn, each answer
    checked against its own reply: every one a distinct reply-cache entry."""
    items = []
    for n in range(count):
        prompt = f"{PROMPT} {n}"
        body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": prompt}]})
        items.append((request_bytes(url, PATHS[CHAT], body.encode(), JSON_ACCEPT),
                      completion_check(REPLY_PREFIX + prompt)))
    target = chat_completions(url)
    return Target(target.host, target.port, target.request, target.check, Rotation(items))


def site_completion(url: str, token: str) -> Target:
    """The site's ``POST /generate_response/``, the bare protocol (to load an upstream)."""
    headers = {"Cookie": f"csrftoken={token}", "X-CSRFToken": token, "Origin": url,
               "Referer": url + "/"}
    return post(url, "/generate_response/", json.dumps({"messages": MESSAGES}).encode(),
                headers, check_site_reply)


# -- checks: None if right, else what was wrong ---------------------------------------------


def _checker(read: Callable[[Any], object], expected: str = EXPECTED) -> Check:
    """A check: status 200 and ``read(document) == expected``."""
    def check(status: int, body: bytes) -> str | None:
        try:
            found = read(json.loads(body))
        except (ValueError, KeyError, IndexError, TypeError):
            found = None
        return None if status == 200 and found == expected else f"HTTP {status}: {body[:200]!r}"
    return check


def completion_check(expected: str) -> Check:
    return _checker(lambda d: d["choices"][0]["message"]["content"], expected)


def _stored_text(document: Any) -> object:
    if document["store"] is not True or document["status"] != "completed":
        return None
    return document["output"][0]["content"][0]["text"]


check_completion = completion_check(EXPECTED)
check_response = _checker(_stored_text)
check_message = _checker(lambda d: d["content"][0]["text"])
check_text_completion = _checker(lambda d: d["choices"][0]["text"])
check_site_reply = _checker(lambda d: d["response"])
