"""The chat page of ``voigpt serve --backend local --api-key KEY``: the page loads without
the key, every completion still needs it, a missing or wrong key brings up the key prompt,
and the key entered there is kept in the browser."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (
    ask,
    browser,
    page,
    playwright_,
    problems,
    screenshot,
)
from tests.support.server import ServeProcess

__all__ = ["browser", "page", "playwright_"]  # the module's fixtures
KEY = "page-test-key-0123456789"
REPLY = "[voigpt emulator] You said: "


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    with ServeProcess("--backend", "local", "--api-key", KEY) as process:
        yield process


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code



def test_the_page_loads_without_a_key_but_the_api_needs_it(server: ServeProcess) -> None:
    assert status_of(server.url + "/") == 200
    assert status_of(server.url + "/static/app.js") == 200
    assert status_of(server.url + "/v1/models") == 401


def test_a_missing_key_brings_up_the_prompt_and_the_key_entered_is_used_and_kept(
    page: Page,
) -> None:
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("This server needs an API key")  # from /v1/models
    ask(page, "hello")
    expect(notice).to_contain_text("This server needs an API key")
    key = notice.get_by_label("API key")
    expect(key).to_be_focused()
    expect(key).to_have_attribute("type", "password")
    expect(page.get_by_label("Message", exact=True)).to_have_value("hello")
    screenshot(page, "key-prompt")

    key.fill(KEY)
    key.press("Enter")  # "Save key and retry"
    expect(page.locator(".message.assistant .text")).to_have_text([REPLY + "hello"])
    expect(notice).to_be_hidden()
    expect(page.get_by_role("combobox", name="Model")).to_have_value("gpt-3.5-turbo")

    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    ask(page, "still here")
    expect(page.locator(".message.assistant .text")).to_have_text(
        [REPLY + "hello", REPLY + "still here"])
    expect(notice).to_be_hidden()

    page.get_by_role("button", name="Forget the API key").click()
    ask(page, "and now?")
    expect(notice).to_contain_text("This server needs an API key")
    assert problems(page) == []


def test_a_wrong_key_brings_up_the_prompt_saying_it_was_refused(page: Page) -> None:
    notice = page.get_by_role("alert")
    notice.get_by_label("API key").fill("not-the-key")
    notice.get_by_role("button", name="Save key").click()
    expect(notice).to_contain_text("The server refused this API key")  # /v1/models again
    ask(page, "hello")
    expect(notice).to_contain_text("The server refused this API key")
    expect(notice.get_by_label("API key")).to_be_visible()
    expect(page.locator(".message")).to_have_count(0)
    screenshot(page, "key-refused")

    notice.get_by_label("API key").fill(KEY)
    notice.get_by_role("button", name="Save key and retry").click()
    expect(page.locator(".message.assistant .text")).to_have_text([REPLY + "hello"])
