"""The chat page of a real ``voigpt serve --backend local`` process (the offline demo), in
Debian's headless Chromium: what the page sends and shows, what it refuses to run, how it
keeps chats, and how it lays out from a 375 px phone to a desktop, light and dark."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from html.parser import HTMLParser

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import (
    DESKTOP,
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
REPLY = "[voigpt emulator] You said: "
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'



def replies(page: Page) -> list[str]:
    return page.locator(".message.assistant .text").all_text_contents()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, dict(answer.headers.items()), answer.read()


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline: list[str] = []  # event handler and style attributes
        self._in_script = False
        self.script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inline += [name for name, _ in attrs if name.startswith("on") or name == "style"]
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


def test_the_page_and_its_files_are_served_with_a_strict_policy_and_no_inline_script(
    server: ServeProcess,
) -> None:
    status, headers, body = fetch(server.url + "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    policy = headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == directives["script-src"] == "'self'"
    assert directives["connect-src"] == directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == directives["base-uri"] == "'none'"
    assert "unsafe" not in policy and "*" not in policy and "http" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"

    parsed = _Scripts()
    parsed.feed(body.decode())
    assert parsed.scripts, "the page loads its script"
    assert all(s.get("src", "").startswith("/static/") for s in parsed.scripts)  # type: ignore[union-attr]
    assert parsed.script_text == "" and parsed.inline == []
    assert not re.search(rb"https?://", body), "nothing from another origin (no CDN)"

    for name, kind in (("app.js", "text/javascript"), ("api.js", "text/javascript"),
                       ("markdown.js", "text/javascript"), ("style.css", "text/css")):
        status, headers, source = fetch(f"{server.url}/static/{name}")
        assert headers["content-type"].startswith(kind)
        assert headers["content-security-policy"] == policy
        assert not re.search(rb"\beval\(|new Function|innerHTML|insertAdjacentHTML|https?://",
                             source), name
    openapi = json.loads(fetch(server.url + "/openapi.json")[2])
    assert "/" not in openapi["paths"] and not any("static" in p for p in openapi["paths"])

    etag = fetch(server.url + "/")[1]["etag"]
    again = urllib.request.Request(server.url + "/", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:  # urllib raises on a 304
        urllib.request.urlopen(again, timeout=10)
    assert not_modified.value.code == 304


def test_the_page_files_ship_in_the_package() -> None:
    """A non-editable install carries what setuptools' package-data names, the vendored
    libraries in their folders included."""
    static = ROOT / "voigpt" / "entrypoints" / "server" / "static"
    assert {p.name for p in static.iterdir()} >= {
        "index.html", "app.js", "api.js", "markdown.js", "style.css", "vendor"}
    assert '"entrypoints/server/static/**/*"' in (ROOT / "pyproject.toml").read_text()


def test_enter_sends_the_message_and_the_reply_appears_shift_enter_makes_a_new_line(
    page: Page,
) -> None:
    box = page.get_by_label("Message", exact=True)
    box.fill("Hello")
    box.press("Shift+Enter")
    box.press_sequentially("voigpt")
    expect(box).to_have_value("Hello\nvoigpt")
    expect(page.locator(".message")).to_have_count(0)  # Shift+Enter sent nothing

    box.press("Enter")
    expect(page.locator(".message.user .text")).to_have_text(["Hello\nvoigpt"])
    expect(page.locator(".message.assistant .text")).to_have_text([REPLY + "Hello\nvoigpt"])
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    expect(page.get_by_role("combobox", name="Model")).to_have_value("gpt-3.5-turbo")
    assert problems(page) == []
    screenshot(page, "desktop-light")


def test_a_reply_with_html_is_shown_as_text_and_runs_nothing(page: Page) -> None:
    send(page, XSS)
    reply = page.locator(".message.assistant .text")
    expect(reply).to_have_text(REPLY + XSS)  # literally, tags and all
    send(page, "one more round trip, so that any handler had its turn")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#log img, #log script").count() == 0
    assert problems(page) == []
    screenshot(page, "xss-as-text")


def test_new_chat_clears_the_view_and_a_past_chat_reopens_even_after_a_reload(
    page: Page,
) -> None:
    send(page, "first chat")
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".message")).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    send(page, "second chat")
    chats = page.locator("#chats .chat")
    expect(chats).to_have_text(["second chat", "first chat"])

    chats.filter(has_text="first chat").click()
    expect(page.locator(".message .text")).to_have_text(["first chat", REPLY + "first chat"])
    expect(chats.filter(has_text="first chat")).to_have_attribute("aria-current", "true")

    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    expect(page.locator(".message .text")).to_have_text(["first chat", REPLY + "first chat"])
    page.locator("#chats .chat", has_text="second chat").click()
    expect(page.locator(".message .text")).to_have_text(["second chat", REPLY + "second chat"])
    assert problems(page) == []


def test_labelled_controls_keyboard_focus_and_a_dark_scheme(
    browser: Browser, server: ServeProcess, page: Page
) -> None:
    for label in ("Message", "System prompt", "Model"):
        expect(page.get_by_label(label, exact=True)).to_have_count(1)
    for name in ("New chat", "Send"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()

    page.keyboard.press("Tab")  # the first stop is the skip link
    expect(page.get_by_role("link", name="Skip to the message box")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    page.keyboard.type("Sent from the keyboard")
    page.keyboard.press("Enter")
    expect(page.locator(".message.assistant .text")).to_have_text(REPLY + "Sent from the keyboard")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "the focused control shows it"

    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    dark_page = open_page(browser, server.url + "/", dark=True)
    try:
        send(dark_page, "Hello in the dark")
        dark = dark_page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert _luminance(light) > 0.8 > 0.2 > _luminance(dark), (light, dark)
        screenshot(dark_page, "desktop-dark")
    finally:
        dark_page.context.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_page_works_at_a_375_px_wide_viewport(
    browser: Browser, server: ServeProcess, dark: bool
) -> None:
    page = open_page(browser, server.url + "/", viewport=PHONE, dark=dark)
    try:
        send(page, "A long message from a phone, long enough to wrap over several lines "
                   "of a narrow screen: https://example.invalid/a/very/long/path/without/breaks")
        send(page, "Second turn")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide: it scrolls sideways"
        for control in (page.get_by_label("Message", exact=True),
                        page.get_by_role("button", name="Send"),
                        page.get_by_role("combobox", name="Model")):
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= 740
        for reply in page.locator(".message").all():
            box = reply.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"]
        screenshot(page, f"phone-{'dark' if dark else 'light'}")

        new_chat = page.get_by_role("button", name="New chat")
        expect(new_chat).to_be_hidden()  # behind the Chats button on a phone
        toggle = page.get_by_role("button", name="Chats")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(new_chat).to_be_visible()
        screenshot(page, f"phone-{'dark' if dark else 'light'}-chats")
        new_chat.click()
        expect(new_chat).to_be_hidden()
        expect(page.locator(".message")).to_have_count(0)
        assert problems(page) == []
    finally:
        page.context.close()


def test_the_desktop_layout_has_the_chat_list_beside_the_conversation(page: Page) -> None:
    send(page, "Hello")
    sidebar = page.get_by_role("navigation", name="Chats").bounding_box()
    log = page.get_by_role("log").bounding_box()
    assert sidebar is not None and log is not None
    assert sidebar["x"] + sidebar["width"] <= log["x"]  # side by side
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    expect(page.get_by_role("button", name="Chats")).to_be_hidden()


def _luminance(css: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


# The page's own stream reader (static/api.js) over a body sent in pieces: split inside a
# UTF-8 character and across events, with CRLF, and paused after the first reply delta.
STREAM = """async ([withDone]) => {
  const { streamCompletion } = await import("/static/api.js");
  const bytes = new TextEncoder().encode(
    'data: {"choices":[{"delta":{"role":"assistant"}}]}\\n\\n' +
    'data: {"choices":[{"delta":{"content":"H\\u00e9"}}]}\\r\\n\\r\\n');
  const rest = new TextEncoder().encode(
    'data: {"choices":[{"delta":{"content":"llo \\u2713"}}]}\\n\\n' +
    (withDone ? "data: [DONE]\\n\\n" : ""));
  let release, released = false;
  const gate = new Promise((resolve) => { release = () => { released = true; resolve(); }; });
  setTimeout(release, 3000);
  const body = new ReadableStream({
    async start(controller) {
      const cut = bytes.indexOf(0xc3) + 1;  // between the two bytes of the e acute
      controller.enqueue(bytes.slice(0, cut));
      controller.enqueue(bytes.slice(cut));
      await gate;
      controller.enqueue(rest);
      controller.close();
    },
  });
  const headers = { "Content-Type": "text/event-stream" };
  window.fetch = async () => new Response(body, { headers });
  const deltas = [];
  let early = null, failure = null;
  try {
    for await (const delta of streamCompletion({ messages: [], model: "", key: "" })) {
      deltas.push(delta);
      if (early === null) { early = !released; release(); }
    }
  } catch (error) {
    failure = error.kind;
  }
  return { deltas, early, failure };
}"""


def test_the_reply_is_read_as_it_arrives_from_the_event_stream(page: Page) -> None:
    done = page.evaluate(STREAM, [True])
    assert done == {"deltas": ["H\u00e9", "llo \u2713"], "early": True, "failure": None}
    cut_off = page.evaluate(STREAM, [False])
    assert cut_off["failure"] == "stream", "a stream without [DONE] is an error, not a reply"
