"""The chat page's JSON toggle, in Debian's headless Chromium over a real ``voigpt serve``
process whose site is an emulator scripted with what the model answers: with the toggle on,
the request asks for ``response_format: {"type": "json_object"}`` and the structured answer
is shown as formatted JSON, as text (markup in it is text, never an element); with it off,
the same reply is Markdown as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.support.browser import ask, browser, open_page, playwright_, problems, screenshot
from tests.support.server import ServeProcess
from voigpt.emulator import Emulator

__all__ = ["browser", "playwright_"]  # the module's fixtures
HOSTILE = "<img src=x onerror=alert(1)>"
REPLY = 'Sure: {"b": 1, "a": "' + HOSTILE + '"}'
DONE = ".message.assistant:not(.pending)"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def server(emulator: Emulator) -> Iterator[ServeProcess]:
    with ServeProcess("--base-url", emulator.url, "--retries", "0") as process:
        yield process


@pytest.fixture
def page(browser: Browser, server: ServeProcess, emulator: Emulator) -> Iterator[Page]:
    emulator.clear_replies()
    opened = open_page(browser, server.url + "/")
    emulator.reset_records()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    bodies: list[Any] = []
    opened.on("request", lambda request: _keep_body(request, bodies))
    opened.bodies = bodies  # type: ignore[attr-defined]
    yield opened
    opened.context.close()
    emulator.clear_replies()


def _keep_body(request: Request, bodies: list[Any]) -> None:
    if request.method == "POST" and request.url.endswith("/v1/chat/completions"):
        bodies.append(request.post_data_json)


def sent_to_site(emulator: Emulator) -> list[list[dict[str, str]]]:
    """The messages of each completion the site received, oldest first."""
    return [request.json()["messages"]  # type: ignore[index]
            for request in emulator.requests if request.path.startswith("/generate_response/")]


def test_json_mode_asks_for_a_json_object_and_shows_the_answer_formatted_as_text(
    page: Page, emulator: Emulator
) -> None:
    toggle = page.get_by_role("checkbox", name="JSON")
    expect(toggle).not_to_be_checked()
    toggle.focus()  # from the keyboard, as any checkbox
    page.keyboard.press("Space")
    expect(toggle).to_be_checked()
    emulator.queue_replies(REPLY)
    ask(page, "Give me b and a")
    expect(page.locator(DONE)).to_have_count(1)

    shown = page.locator(".message.assistant .text pre.json")
    pretty = json.dumps({"b": 1, "a": HOSTILE}, indent=2)  # JSON.stringify(value, null, 2)
    expect(shown).to_have_text(pretty)
    assert shown.inner_text() == pretty  # indented, its keys in the model's order
    assert page.locator(".log img").count() == 0  # the markup is text, not an element
    assert page.locator(".message.assistant .text").evaluate(
        "(body) => body.children.length === 1 && body.firstElementChild.tagName") == "PRE"
    assert page.evaluate("document.querySelectorAll('img').length") == 0

    [body] = page.bodies  # type: ignore[attr-defined]
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"] == [{"role": "user", "content": "Give me b and a"}]
    [messages] = sent_to_site(emulator)
    assert messages[0] == {"role": "user", "content": "Give me b and a"}
    assert messages[-1]["role"] == "system" and "JSON object" in messages[-1]["content"]
    screenshot(page, "structured-json")

    page.reload()  # the chat comes back from localStorage, still shown as JSON
    page.wait_for_selector("html[data-ready=true]")
    expect(page.locator(".message.assistant .text pre.json")).to_have_text(pretty)
    assert page.locator(".log img").count() == 0
    assert page.dialogs == [] and problems(page) == []  # type: ignore[attr-defined]


def test_with_the_toggle_off_the_same_reply_is_markdown_as_before(
    page: Page, emulator: Emulator
) -> None:
    emulator.queue_replies("**Sure**: " + REPLY)
    ask(page, "Give me b and a")
    expect(page.locator(DONE)).to_have_count(1)
    reply = page.locator(".message.assistant .text")
    expect(reply.locator("strong")).to_have_text("Sure")  # Markdown, as before
    expect(reply).to_contain_text(HOSTILE)  # raw HTML off in Markdown: shown as text
    assert page.locator(".log img").count() == 0

    emulator.queue_replies('{"b": 1, "a": "**x**"}')  # JSON, but not asked for as JSON
    ask(page, "Again")
    expect(page.locator(DONE)).to_have_count(2)
    expect(reply.nth(1).locator("strong")).to_have_text("x")
    assert page.locator(".log pre.json").count() == 0

    assert [body.get("response_format") for body in page.bodies] == [None, None]  # type: ignore[attr-defined]
    assert sent_to_site(emulator)[0] == [{"role": "user", "content": "Give me b and a"}]
    assert page.dialogs == [] and problems(page) == []  # type: ignore[attr-defined]
