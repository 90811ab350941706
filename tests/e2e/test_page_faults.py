"""The chat page over a real ``voigpt serve`` process whose site is an emulator this test
controls: what reaches the site on each turn, the message shown for each failure, and the
Stop button. ``--retries 0`` so that one injected fault is one failed request, and
``--timeout 2`` so that a SLOW site is a timeout within the test's patience."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.browser import ask, browser, open_page, playwright_, problems, screenshot
from tests.support.server import ServeProcess
from voigpt.emulator import Emulator, Fault

__all__ = ["browser", "playwright_"]  # the module's fixtures
REPLY = "[voigpt emulator] You said: "


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def server(emulator: Emulator) -> Iterator[ServeProcess]:
    # --state memory: one server serves every test here, and on a shared state the 7 s
    # 429 of the rate-limit test would (rightly) pause the next tests' requests too.
    with ServeProcess("--base-url", emulator.url, "--retries", "0", "--timeout", "2",
                      "--state", "memory") as process:
        yield process


@pytest.fixture
def page(browser: Browser, server: ServeProcess, emulator: Emulator) -> Iterator[Page]:
    emulator.clear_faults()
    opened = open_page(browser, server.url + "/")
    emulator.reset_records()
    yield opened
    opened.context.close()
    emulator.clear_faults()


def message_box(page: Page) -> Locator:
    return page.get_by_label("Message", exact=True)



def sent_to_site(emulator: Emulator) -> list[object]:
    """The messages of each completion the site received, oldest first."""
    return [request.json()["messages"]  # type: ignore[index]
            for request in emulator.requests if request.path.startswith("/generate_response/")]


def test_each_turn_sends_the_whole_conversation_with_the_system_prompt(
    page: Page, emulator: Emulator
) -> None:
    page.get_by_text("System prompt").first.click()
    page.get_by_label("System prompt", exact=True).fill("Be brief.")
    ask(page, "one")
    expect(page.locator(".message.assistant:not(.pending)")).to_have_count(1)
    ask(page, "two")
    expect(page.locator(".message.assistant .text")).to_have_text([REPLY + "one", REPLY + "two"])

    system = {"role": "system", "content": "Be brief."}
    assert sent_to_site(emulator) == [
        [system, {"role": "user", "content": "one"}],
        [system, {"role": "user", "content": "one"},
         {"role": "assistant", "content": REPLY + "one"}, {"role": "user", "content": "two"}],
    ]
    assert problems(page) == []


def test_a_rate_limit_shows_the_wait_and_gives_the_message_back(
    page: Page, emulator: Emulator
) -> None:
    emulator.inject(Fault.RATE_LIMITED, retry_after=7)
    ask(page, "too fast")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("rate limiting. Try again in 7 s.")
    expect(notice.get_by_role("button", name="Retry")).to_be_disabled()  # for the 7 s
    expect(message_box(page)).to_have_value("too fast")
    expect(page.locator(".message")).to_have_count(0)
    screenshot(page, "rate-limited")


@pytest.mark.parametrize(
    ("fault", "params", "shown"),
    [
        (Fault.SERVER_ERROR, {"status": 503}, "voigpt.com failed to answer (HTTP 503)."),
        (Fault.HTML_INSTEAD_OF_JSON, {}, "voigpt.com failed to answer (HTTP 502)."),
        (Fault.SLOW, {"delay": 5}, "voigpt.com did not answer in time (HTTP 504)."),
    ],
    ids=["unavailable", "malformed", "timeout"],
)
def test_an_upstream_failure_or_timeout_is_shown_and_retry_sends_again(
    page: Page, emulator: Emulator, fault: Fault, params: dict[str, Any], shown: str
) -> None:
    emulator.inject(fault, **params)
    ask(page, "are you there?")
    notice = page.get_by_role("alert")
    expect(notice.locator(".headline")).to_have_text(shown)
    expect(notice.locator(".detail")).not_to_be_empty()  # the server's own message
    screenshot(page, f"upstream-{fault.name.lower()}")

    notice.get_by_role("button", name="Retry").click()
    expect(page.locator(".message.assistant .text")).to_have_text([REPLY + "are you there?"])
    expect(notice).to_be_hidden()
    assert len(sent_to_site(emulator)) == 2


def test_stop_aborts_the_request_and_the_page_recovers(page: Page, emulator: Emulator) -> None:
    emulator.inject(Fault.SLOW, delay=5)
    ask(page, "a slow one")
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    expect(page.locator(".message.assistant.pending")).to_have_count(1)
    stop.click()
    expect(page.get_by_role("alert")).to_contain_text("Stopped")
    expect(stop).to_be_hidden()
    expect(page.locator(".message")).to_have_count(0)
    expect(message_box(page)).to_have_value("a slow one")

    message_box(page).press("Enter")  # the same message again, now answered
    expect(page.locator(".message.assistant .text")).to_have_text([REPLY + "a slow one"])
    expect(page.get_by_role("button", name="Send")).to_be_visible()
