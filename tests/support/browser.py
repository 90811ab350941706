"""The chat page's browser tests: Debian's Chromium (``/usr/bin/chromium``, never a
downloaded browser) driven by Playwright's sync API, and where screenshots go.

A missing Chromium fails the tests with a message saying how to install it: CI installs
it with apt-get, so a silent skip would hide a broken setup.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.support.server import ServeProcess

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--disable-default-apps", "--disable-extensions", "--mute-audio",
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
# What Chromium logs for every answer with an error status, which the page expects.
EXPECTED_CONSOLE = "Failed to load resource"


def chromium_path() -> str:
    """``VOIGPT_CHROMIUM``, else ``/usr/bin/chromium``; fails the test if it is not there."""
    path = os.environ.get("VOIGPT_CHROMIUM") or "/usr/bin/chromium"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        found = shutil.which("chromium")
        hint = f" (but {found} is on PATH: set VOIGPT_CHROMIUM)" if found else ""
        pytest.fail(
            f"the chat page tests need Debian's Chromium at {path}{hint}: "
            "`sudo apt-get install -y chromium` (CI's .ci/run installs it)",
            pytrace=False,
        )
    return path


def artifacts() -> Path:
    """Where screenshots go: ``VOIGPT_TEST_ARTIFACTS``, else ``test-artifacts/page`` (ignored
    by git)."""
    directory = Path(os.environ.get("VOIGPT_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "page"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Page, name: str) -> Path:
    path = artifacts() / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")
    return path


@pytest.fixture(scope="module")
def playwright_() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_: Playwright) -> Iterator[Browser]:
    """One headless Chromium for a whole test module; each test opens its own context."""
    launched = playwright_.chromium.launch(
        executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS),
    )
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    """A real ``voigpt serve --backend local`` (the offline demo, whose reply repeats the
    message) for a whole test module; a module whose server is another defines its own."""
    with ServeProcess("--backend", "local") as process:
        yield process


@pytest.fixture
def page(browser: Browser, server: ServeProcess) -> Iterator[Page]:
    """The chat page of ``server`` in a fresh context."""
    opened = open_page(browser, server.url + "/")
    yield opened
    opened.context.close()


def open_page(browser: Browser, url: str, *, viewport: dict[str, int] | None = None,
              dark: bool = False, touch: bool = False) -> Page:
    """A fresh context (empty localStorage) at ``url``, its script loaded; uncaught page
    errors and CSP violations are kept in ``page.problems`` (a list of str). ``touch``: a
    touch screen (a coarse pointer) instead of a mouse."""
    context = browser.new_context(
        viewport=viewport or DESKTOP,  # type: ignore[arg-type]
        color_scheme="dark" if dark else "light", service_workers="block",
        has_touch=touch, is_mobile=touch,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and not message.text.startswith(EXPECTED_CONSOLE)
            else None)
    page.problems = problems  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector("html[data-ready=true]")
    return page


def problems(page: Page) -> list[str]:
    found: list[str] = page.problems  # type: ignore[attr-defined]
    return found


def ask(page: Page, text: str) -> None:
    """Type ``text`` into the message box and press Enter (the reply is not waited for)."""
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")


def send(page: Page, text: str) -> None:
    """``ask``, then wait for the reply."""
    replies = page.locator(".message.assistant:not(.pending)")
    before = replies.count()
    ask(page, text)
    expect(replies).to_have_count(before + 1)
