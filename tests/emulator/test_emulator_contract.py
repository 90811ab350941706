"""The wire contract of ``GET /`` and ``POST /generate_response/``, over real sockets."""

from __future__ import annotations

import email.utils
import json
import re
import time

import pytest
import requests

from voigpt.emulator import Emulator, reply_for

GENERATE = "/generate_response/"
HELLO = [{"role": "user", "content": "hello"}]
COOKIE_RE = re.compile(
    r"^csrftoken=(?P<token>[A-Za-z0-9]{32}); expires=(?P<expires>[^;]+); "
    r"Max-Age=31449600; Path=/; SameSite=Lax$"
)


def test_get_root_serves_html_with_a_django_shaped_csrf_cookie(voigpt_emulator: Emulator) -> None:
    response = requests.get(voigpt_emulator.url + "/", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    raw = response.raw.headers.getlist("Set-Cookie")
    assert len(raw) == 1
    match = COOKIE_RE.match(raw[0])
    assert match, raw[0]
    token = match["token"]
    assert re.fullmatch(r"[A-Za-z0-9]{32}", token)
    expires = email.utils.parsedate_to_datetime(match["expires"]).timestamp()
    assert abs(expires - (time.time() + 31449600)) < 120
    assert response.cookies["csrftoken"] == token
    assert voigpt_emulator.tokens_issued == [token]
    assert "<html" in response.text


def test_each_get_issues_a_new_token(voigpt_emulator: Emulator) -> None:
    tokens = [requests.get(voigpt_emulator.url, timeout=10).cookies["csrftoken"] for _ in range(3)]

    assert len(set(tokens)) == 3
    assert voigpt_emulator.tokens_issued == tokens


def test_matching_cookie_and_header_get_the_deterministic_reply(site_client) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "Grüße, 世界!"},
    ]
    response = site_client.complete(messages)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"response": "[voigpt emulator] You said: Grüße, 世界!"}
    assert response.json()["response"] == reply_for(messages)
    assert site_client.emulator.completions == 1
    assert site_client.emulator.rejections == []


def test_a_conversation_without_user_message_gets_the_no_user_reply(site_client) -> None:
    response = site_client.complete([{"role": "system", "content": "hi"}])

    assert response.json() == {"response": "[voigpt emulator] No user message."}


def test_the_masked_token_of_the_page_is_accepted_in_the_header(site_client) -> None:
    page = site_client.session.get(site_client.emulator.url + "/", timeout=10)
    secret = page.cookies["csrftoken"]
    masked = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', page.text)
    assert masked, page.text

    response = site_client.generate(
        extra_headers={"Cookie": f"csrftoken={secret}", "X-CSRFToken": masked[1]}
    )

    assert response.status_code == 200
    assert response.json() == {"response": reply_for(HELLO)}


def _other_token(token: str) -> str:
    return token[:-1] + ("a" if token[-1] != "a" else "b")


CSRF_CASES = {
    "mismatched header": (lambda t: {"Cookie": f"csrftoken={t}", "X-CSRFToken": _other_token(t)},
                          "CSRF token incorrect."),
    "missing cookie": (lambda t: {"X-CSRFToken": t}, "CSRF cookie not set."),
    "missing header": (lambda t: {"Cookie": f"csrftoken={t}"}, "CSRF token missing."),
    "never issued": (lambda t: {"Cookie": f"csrftoken={'Q' * 32}", "X-CSRFToken": "Q" * 32},
                     "CSRF token incorrect."),
    "short cookie": (lambda t: {"Cookie": "csrftoken=abc", "X-CSRFToken": "abc"},
                     "CSRF cookie has incorrect length."),
    "bad header characters": (lambda t: {"Cookie": f"csrftoken={t}", "X-CSRFToken": "!" * 32},
                              "CSRF token has invalid characters."),
}


@pytest.mark.parametrize("case", sorted(CSRF_CASES))
def test_csrf_failures_get_djangos_403_page_and_are_recorded(site_client, case: str) -> None:
    make_headers, reason = CSRF_CASES[case]
    token = site_client.token()

    response = site_client.generate(extra_headers=make_headers(token))

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>403 Forbidden</title>" in response.text
    assert "CSRF verification failed. Request aborted." in response.text
    assert reason in response.text
    emulator = site_client.emulator
    assert [(r.path, r.reason, r.status) for r in emulator.rejections] == [(GENERATE, reason, 403)]
    assert emulator.completions == 0


def test_revoked_tokens_are_refused_until_a_new_get(site_client) -> None:
    old = site_client.token()
    assert site_client.generate(token=old).status_code == 200

    site_client.emulator.revoke_tokens()
    refused = site_client.generate(token=old)
    fresh = site_client.generate(token=site_client.token())

    assert refused.status_code == 403
    assert "CSRF token incorrect." in refused.text
    assert site_client.emulator.rejections[0].token == old
    assert fresh.status_code == 200


def test_origin_and_referer_are_recorded_but_never_rejected(site_client) -> None:
    headers = {"Origin": "https://elsewhere.example", "Referer": "https://elsewhere.example/x"}
    response = site_client.generate(token=site_client.token(), extra_headers=headers)

    assert response.status_code == 200
    seen = site_client.emulator.requests[-1].headers
    assert seen["origin"] == "https://elsewhere.example"
    assert seen["referer"] == "https://elsewhere.example/x"


BAD_BODIES = {
    "not json": (b'{"messages": [', "not valid JSON"),
    "not utf-8": (b'{"messages": "\xff"}', "not valid UTF-8"),
    "not an object": (b"[]", "must be a JSON object"),
    "no messages": (b'{"prompt": "hi"}', 'no "messages" field'),
    "messages not a list": (b'{"messages": "hi"}', '"messages" must be a list'),
    "empty messages": (b'{"messages": []}', "must not be empty"),
    "message not an object": (b'{"messages": ["hi"]}', "messages[0] must be an object"),
    "bad role": (b'{"messages": [{"role": "bot", "content": "x"}]}', "messages[0].role"),
    "missing role": (b'{"messages": [{"content": "x"}]}', "messages[0].role"),
    "content not a string": (
        b'{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": 1}]}',
        "messages[1].content must be a string",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_malformed_bodies_get_400_with_a_json_error(site_client, case: str) -> None:
    body, explanation = BAD_BODIES[case]

    response = site_client.generate(token=site_client.token(), data=body)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error, str)
    assert explanation in error
    assert site_client.emulator.completions == 0


def test_unknown_paths_get_404(voigpt_emulator: Emulator) -> None:
    response = requests.get(voigpt_emulator.url + "/api/chat", timeout=10)

    assert response.status_code == 404
    assert "Not Found" in response.text


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("GET", GENERATE, "POST"), ("PUT", GENERATE, "POST"), ("POST", "/", "GET"),
     ("DELETE", "/", "GET")],
)
def test_other_methods_get_405_with_allow(
    voigpt_emulator: Emulator, method: str, path: str, allow: str
) -> None:
    response = requests.request(method, voigpt_emulator.url + path, timeout=10)

    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert voigpt_emulator.tokens_issued == []


def test_head_gets_headers_without_a_body(voigpt_emulator: Emulator) -> None:
    response = requests.head(voigpt_emulator.url + GENERATE, timeout=10)

    assert response.status_code == 405
    assert response.content == b""


def test_bodies_over_one_mebibyte_get_413(site_client) -> None:
    response = site_client.generate(token=site_client.token(), data=b"x" * (1024 * 1024 + 1))

    assert response.status_code == 413
    assert response.headers["Connection"] == "close"
    assert site_client.emulator.requests[-1].body == b""


def test_a_body_of_exactly_one_mebibyte_is_read(site_client) -> None:
    envelope = json.dumps({"messages": [{"role": "user", "content": ""}]}).encode()
    content = "y" * (1024 * 1024 - len(envelope))
    body = json.dumps({"messages": [{"role": "user", "content": content}]}).encode()
    assert len(body) == 1024 * 1024

    response = site_client.generate(token=site_client.token(), data=body)

    assert response.status_code == 200
    assert response.json()["response"] == f"[voigpt emulator] You said: {content}"


def test_chunked_request_bodies_get_411(site_client) -> None:
    token = site_client.token()
    response = site_client.session.post(
        site_client.emulator.url + GENERATE,
        headers={"Cookie": f"csrftoken={token}", "X-CSRFToken": token},
        data=iter([b'{"messages": ', b"[]}"]),
        timeout=10,
    )

    assert response.status_code == 411
