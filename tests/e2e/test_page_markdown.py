"""The chat page shows a reply as Markdown, safely, in Debian's headless Chromium over a real
``voigpt serve --backend local`` (whose reply repeats the message, so a message is the
reply's Markdown): bold, code blocks with a copy button, a reply rendered as it streams;
hostile Markdown that runs nothing and fetches nothing; the vendored libraries; and no
keyboard hints on a phone."""

from __future__ import annotations

import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import (
    PHONE,
    ROOT,
    browser,
    open_page,
    page,
    playwright_,
    problems,
    screenshot,
    send,
    server,
)
from tests.support.server import ServeProcess

__all__ = ["browser", "page", "playwright_", "server"]  # the module's fixtures
VENDOR = ROOT / "voigpt" / "entrypoints" / "server" / "static" / "vendor"
REPLIES = ".message.assistant .text"


class Beacon:
    """A loopback HTTP listener that records the path of every request it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def beacon() -> Iterator[Beacon]:
    listening = Beacon()
    yield listening
    listening.close()


def test_bold_and_a_code_block_render_and_the_copy_button_copies_the_code(page: Page) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    send(page, "Some **bold** and `inline`:\n\n```python\nprint('hi')\n```")
    reply = page.locator(REPLIES)
    expect(reply.locator("strong")).to_have_text("bold")
    expect(reply.locator("p code")).to_have_text("inline")
    expect(reply.locator("pre > code.language-python")).to_have_text("print('hi')\n")
    expect(page.locator(".message.user .text")).to_contain_text("**bold**")  # typed: as text

    copy = reply.get_by_role("button", name="Copy code")
    copy.click()
    expect(reply.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "print('hi')"
    expect(page.get_by_role("status")).to_have_text("Code copied to the clipboard.")
    screenshot(page, "markdown-copied")

    page.evaluate("navigator.clipboard.writeText('')")
    expect(copy).to_have_text("Copy code")  # back after two seconds
    copy.focus()  # a button like any other: reachable and pressed from the keyboard
    page.keyboard.press("Enter")
    expect(reply.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "print('hi')"
    assert problems(page) == []


def test_without_the_clipboard_api_the_copy_button_selects_and_copies_the_code(
    page: Page,
) -> None:
    send(page, "Over plain http:\n\n```\nno clipboard api\n```")
    page.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    page.get_by_role("button", name="Copy code").click()
    expect(page.get_by_role("button", name=re.compile("^(Copied|Selected)$"))).to_be_visible()
    assert page.evaluate("getSelection().toString()").strip() == "no clipboard api"
    assert problems(page) == []


# The page's send over a stream this test feeds: the reply's Markdown arrives in pieces
# and the test looks at the page before the last piece is sent.
STREAMED = """() => {
  const pieces = ['**bo', 'ld** then\\n\\n```js\\nlet x', ' = 1;\\n```\\n'];
  const encode = (text) => new TextEncoder().encode(
    `data: ${JSON.stringify({ choices: [{ delta: { content: text } }] })}\\n\\n`);
  window.releaseLast = null;
  const last = new Promise((resolve) => { window.releaseLast = resolve; });
  const body = new ReadableStream({
    async start(controller) {
      controller.enqueue(encode(pieces[0]));
      controller.enqueue(encode(pieces[1]));
      await last;
      controller.enqueue(encode(pieces[2]));
      controller.enqueue(new TextEncoder().encode("data: [DONE]\\n\\n"));
      controller.close();
    },
  });
  const real = window.fetch;
  window.fetch = (url, options) => String(url).endsWith("/v1/chat/completions")
    ? Promise.resolve(new Response(body, { headers: { "Content-Type": "text/event-stream" } }))
    : real(url, options);
}"""


def test_a_streaming_reply_is_shown_as_markdown_while_it_arrives(page: Page) -> None:
    page.evaluate(STREAMED)
    box = page.get_by_label("Message", exact=True)
    box.fill("stream please")
    box.press("Enter")
    pending = page.locator(".message.assistant.pending .text")
    expect(pending.locator("strong")).to_have_text("bold")
    expect(pending.locator("pre code")).to_have_text("let x")  # an open fence, so far

    page.evaluate("window.releaseLast()")
    done = page.locator(".message.assistant:not(.pending) .text")
    expect(done.locator("pre code")).to_have_text("let x = 1;\n")
    expect(done.get_by_role("button", name="Copy code")).to_have_count(1)
    assert problems(page) == []


def hostile(beacon: str) -> str:
    return (
        "Hostile:\n\n"
        "<script>window.__pwned = 1</script>\n\n"
        '<img src=x onerror="window.__pwned = 2"> <svg onload="window.__pwned = 3"></svg>\n\n'
        "[js](javascript:window.__pwned=4) [entity](jav&#x61;script:window.__pwned=5) "
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) "
        "[vb](vbscript:msgbox) [self](/v1/models)\n\n"
        f"![beacon]({beacon}/inline.png) ![ref][pic] ![](data:image/png;base64,iVBORw0KGgo=)\n\n"
        f'<a href="{beacon}/raw-link">raw</a> <iframe src="{beacon}/frame"></iframe>\n\n'
        f"[pic]: {beacon}/reference.png\n\n"
        "**still Markdown**"
    )


def test_hostile_markdown_runs_nothing_and_fetches_nothing(page: Page, beacon: Beacon) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    send(page, hostile(beacon.url))
    reply = page.locator(REPLIES)
    expect(reply.locator("strong")).to_have_text("still Markdown")  # it was rendered
    expect(reply).to_contain_text("<script>window.__pwned = 1</script>")  # raw HTML: text
    assert reply.locator("img, svg, script, iframe, object, embed, style, [style]").count() == 0

    links = reply.locator("a")
    hrefs = [link.get_attribute("href") or "" for link in links.all()]
    assert hrefs == [f"{beacon.url}/inline.png", f"{beacon.url}/reference.png"]  # images
    expect(links.first).to_have_text("[image: beacon]")
    for link in links.all():
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(link).to_have_attribute("target", "_blank")
    for word in ("js", "entity", "data", "vb", "self"):
        expect(reply.get_by_text(f"[{word}](", exact=False)).to_have_count(1)  # left as text
    assert reply.locator("[onerror], [onload], [onclick]").count() == 0

    send(page, "one more round trip, so that anything queued had its turn")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert beacon.hits == [], "the reply made the browser fetch"
    assert problems(page) == [], "not even an attempt that the CSP refused"
    screenshot(page, "markdown-hostile")


def test_the_vendored_libraries_are_served_for_a_year_and_named_by_their_version(
    server: ServeProcess,
) -> None:
    banners = {"markdown-it": rb"^/\*! markdown-it (\S+) ",
               "dompurify": rb"@license DOMPurify (\S+) "}
    folders = sorted(p.name for p in VENDOR.iterdir() if p.is_dir())
    assert [f.rpartition("-")[0] for f in folders] == sorted(banners)
    for folder in folders:
        name, _, version = folder.rpartition("-")
        (script,) = (VENDOR / folder).glob("*.mjs")
        found = re.search(banners[name], script.read_bytes())
        assert found and found.group(1).decode() == version, "the folder names its version"
        assert (VENDOR / folder / "LICENSE").is_file()
        assert version in (VENDOR / "README.md").read_text()

        with urllib.request.urlopen(f"{server.url}/static/vendor/{folder}/{script.name}") as got:
            assert got.headers["content-type"].startswith("text/javascript")
            assert got.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert got.headers["content-security-policy"].startswith("default-src 'self'")
            assert not re.search(rb"\beval\(|new Function\(", got.read()), "the CSP allows no eval"
    with urllib.request.urlopen(f"{server.url}/static/app.js") as own:
        assert own.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(("viewport", "touch"), [(PHONE, False), (None, True)],
                         ids=["phone-width", "touch-screen"])
def test_without_a_keyboard_the_page_shows_no_keyboard_hints(
    browser: Browser, server: ServeProcess, viewport: dict[str, int] | None, touch: bool
) -> None:
    desktop = open_page(browser, server.url + "/")
    try:
        expect(desktop.locator("#empty")).to_contain_text("Shift+Enter")
        expect(desktop.get_by_label("Message", exact=True)).to_have_attribute(
            "placeholder", re.compile("Enter sends"))
    finally:
        desktop.context.close()

    phone = open_page(browser, server.url + "/", viewport=viewport, touch=touch)
    try:
        expect(phone.locator("#empty")).to_be_visible()
        assert "Enter" not in phone.locator("#empty").inner_text()
        expect(phone.get_by_label("Message", exact=True)).to_have_attribute(
            "placeholder", "Message voigpt")
        assert problems(phone) == []
    finally:
        phone.context.close()
