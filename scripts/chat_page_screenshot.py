"""Regenerate the README's screenshots of the chat page from a real run:
``.venv/bin/python scripts/chat_page_screenshot.py`` starts ``voigpt serve --backend
local`` (offline), chats with it in Debian's headless Chromium, and writes
``docs/chat-page.png`` (desktop) and ``docs/chat-page-mobile.png`` (375 px wide)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM_ARGS, DESKTOP, PHONE, open_page, send  # noqa: E402
from tests.support.server import ServeProcess  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# The local backend's reply repeats the message, so this is a reply in Markdown.
MARKDOWN = ("Some **Markdown**, with `inline code` and a block:\n\n```python\n"
            "from voigpt import Client\nprint(Client().ask(\"Hello!\"))\n```")


def conversation(page: Page) -> None:
    send(page, "What is voigpt?")
    page.get_by_role("button", name="New chat").click()
    page.locator("#system-box summary").click()
    page.get_by_label("System prompt", exact=True).fill("Answer in one short paragraph.")
    send(page, "Hello! Can you hear me?")
    send(page, "Write a haiku about\nrunning fully offline.")
    send(page, MARKDOWN)
    page.get_by_label("Message", exact=True).fill("Thanks!")


def main() -> int:
    with ServeProcess("--backend", "local") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))
        for viewport, name in ((DESKTOP, "chat-page.png"), (PHONE, "chat-page-mobile.png")):
            page = open_page(browser, server.url + "/", viewport=viewport)
            if viewport is PHONE:
                send(page, "Hello from a phone!")
                send(page, "Does the page fit a 375 px screen?\n\n"
                           "```sh\nvoigpt serve --backend local\n```")
            else:
                conversation(page)
            page.locator("#message").blur()
            page.screenshot(path=str(ROOT / "docs" / name), animations="disabled")
            print(ROOT / "docs" / name)
            page.context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
