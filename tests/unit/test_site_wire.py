"""voigpt.com's wire format: the headers a browser on the site would send."""

from __future__ import annotations

import pytest

from voigpt.adapters.site import completion_headers, declares_more_than, origin_of
from voigpt.domain import AccessToken


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("https://voigpt.com", "https://voigpt.com"),
        ("https://voigpt.com:443", "https://voigpt.com"),
        ("http://voigpt.com:80/chat", "http://voigpt.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://[::1]:443", "https://[::1]"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_origin_leaves_out_a_default_port_as_browsers_do(base_url: str, origin: str) -> None:
    assert origin_of(base_url) == origin


def test_the_completion_carries_the_csrf_pair_origin_and_referer() -> None:
    headers = completion_headers("https://voigpt.com", AccessToken("T0ken"))
    assert headers["Cookie"] == "csrftoken=T0ken"
    assert headers["X-CSRFToken"] == "T0ken"
    assert headers["Origin"] == "https://voigpt.com"
    assert headers["Referer"] == "https://voigpt.com/"


@pytest.mark.parametrize(
    ("content_length", "over"),
    [("101", True), (" 101 ", True), ("100", False), ("0", False), ("", False),
     ("abc", False), ("-5", False), ("1e3", False), ("\u0661\u0660\u0661", False)],
)
def test_an_answer_declaring_more_than_the_cap_is_refused_before_its_body(
        content_length: str, over: bool) -> None:
    """Every adapter asks this of ``Content-Length`` (cap 100 here); a length that is no
    whole number in ASCII digits is left to the reading, which the cap holds too."""
    assert declares_more_than(content_length, 100) is over
