"""The wire contract of ``GET /`` and ``POST /generate_response/``, over real sockets."""

from __future__ import annotations

import email.utils
import json
import re
import time

import pytest
import requests

from tests.emulator.helpers import GENERATE, HELLO, REPLY, SiteClient, csrf_headers
from voigpt.emulator import Emulator, Rejection, reply_for

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
    assert response.json() == {"response": REPLY}


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


def _bad_origin(origin: str) -> str:
    return f"Origin checking failed - {origin} does not match any trusted origins."


def test_an_origin_of_another_site_is_rejected_before_the_token_is_looked_at(
    site_client: SiteClient,
) -> None:
    response = site_client.generate(extra_headers={"Origin": "https://elsewhere.example"})

    assert response.status_code == 403
    assert "CSRF verification failed. Request aborted." in response.text
    assert _bad_origin("https://elsewhere.example") in response.text
    assert site_client.emulator.rejections == [
        Rejection(GENERATE, _bad_origin("https://elsewhere.example"), 403)
    ]
    assert site_client.emulator.completions == 0


@pytest.mark.parametrize(
    "origin", ["https://{host}", "{url}/", "http://localhost:1", "null"],
    ids=["other scheme", "trailing slash", "other host", "null"],
)
def test_an_origin_that_is_not_exactly_the_sites_own_is_rejected(
    site_client: SiteClient, origin: str
) -> None:
    url = site_client.emulator.url
    origin = origin.format(url=url, host=url.split("//")[1])

    response = site_client.generate(token=site_client.token(), extra_headers={"Origin": origin})

    assert response.status_code == 403
    assert [r.reason for r in site_client.emulator.rejections] == [_bad_origin(origin)]


def test_the_sites_own_origin_is_accepted(site_client: SiteClient) -> None:
    url = site_client.emulator.url
    headers = {"Origin": url, "Referer": url + "/"}

    response = site_client.generate(token=site_client.token(), extra_headers=headers)

    assert response.status_code == 200
    assert response.json() == {"response": REPLY}
    seen = site_client.emulator.requests[-1].headers
    assert (seen["origin"], seen["referer"]) == (url, url + "/")


def test_a_trusted_origin_is_accepted() -> None:
    with Emulator(trusted_origins=["https://chat.example"]) as emulator:
        client = SiteClient(emulator)
        trusted = client.generate(
            token=client.token(), extra_headers={"Origin": "https://chat.example"}
        )
        other = client.generate(
            token=client.token(), extra_headers={"Origin": "https://evil.example"}
        )

    assert trusted.status_code == 200
    assert other.status_code == 403


def test_voigpt_coms_origin_is_the_sites_own(site_client: SiteClient) -> None:
    """The emulator stands in for voigpt.com: a client written for the real site (g4f's
    old provider) sends Origin https://voigpt.com whatever URL it posts to."""
    headers = {"Origin": "https://voigpt.com", "Referer": "https://voigpt.com/"}

    response = site_client.generate(token=site_client.token(), extra_headers=headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"response": REPLY}
    assert site_client.emulator.rejections == []


@pytest.mark.parametrize(
    "origin",
    ["http://voigpt.com", "https://www.voigpt.com", "https://voigpt.com:8443",
     "https://voigpt.com.evil.example", "https://evilvoigpt.com"],
)
def test_an_origin_that_only_looks_like_voigpt_coms_is_rejected(
    site_client: SiteClient, origin: str
) -> None:
    response = site_client.generate(token=site_client.token(), extra_headers={"Origin": origin})

    assert response.status_code == 403
    assert [r.reason for r in site_client.emulator.rejections] == [_bad_origin(origin)]


def test_trusted_origins_must_be_scheme_and_host() -> None:
    with pytest.raises(ValueError, match=r"'voigpt\.com'"):
        Emulator(trusted_origins=["voigpt.com"])


def test_over_plain_http_the_referer_is_not_checked(site_client: SiteClient) -> None:
    headers = {"Referer": "https://elsewhere.example/x"}

    with_other = site_client.generate(token=site_client.token(), extra_headers=headers)
    without = site_client.generate(token=site_client.token())

    assert (with_other.status_code, without.status_code) == (200, 200)
    assert site_client.emulator.rejections == []


def _tls_post(emulator: Emulator, bundle: str, headers: dict[str, str]) -> requests.Response:
    token = requests.get(emulator.url, verify=bundle, timeout=10).cookies["csrftoken"]
    return requests.post(
        emulator.url + GENERATE, headers={**csrf_headers(token), **headers},
        json={"messages": HELLO}, verify=bundle, timeout=10,
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "Referer checking failed - no Referer."),
        ({"Referer": "not a url"}, "Referer checking failed - Referer is malformed."),
        ({"Referer": "{http}/"},
         "Referer checking failed - Referer is insecure while host is secure."),
        ({"Referer": "https://elsewhere.example/chat"},
         "Referer checking failed - 'https://elsewhere.example/chat' does not match any "
         "trusted origins."),
        ({"Origin": "{http}", "Referer": "{https}/"}, _bad_origin("{http}")),
        ({"Referer": "http://voigpt.com/"},
         "Referer checking failed - Referer is insecure while host is secure."),
        ({"Referer": "https://www.voigpt.com/"},
         "Referer checking failed - 'https://www.voigpt.com/' does not match any trusted "
         "origins."),
    ],
    ids=["no referer", "malformed", "insecure", "other site", "http origin",
         "voigpt.com insecure", "www.voigpt.com"],
)
def test_over_https_a_post_without_a_good_origin_or_referer_is_rejected(
    tls_emulator: Emulator, ca_bundle: str, headers: dict[str, str], reason: str
) -> None:
    https = tls_emulator.url
    http = https.replace("https://", "http://")
    headers = {k: v.format(http=http, https=https) for k, v in headers.items()}

    response = _tls_post(tls_emulator, ca_bundle, headers)

    assert response.status_code == 403
    assert [r.reason for r in tls_emulator.rejections] == [reason.format(http=http)]


@pytest.mark.parametrize(
    "headers",
    [{"Referer": "{https}/"}, {"Origin": "{https}"}, {"Referer": "{https}/chat?x=1"},
     {"Referer": "https://voigpt.com/"}, {"Origin": "https://voigpt.com"}],
)
def test_over_https_the_sites_own_origin_or_referer_is_accepted(
    tls_emulator: Emulator, ca_bundle: str, headers: dict[str, str]
) -> None:
    headers = {k: v.format(https=tls_emulator.url) for k, v in headers.items()}

    response = _tls_post(tls_emulator, ca_bundle, headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"response": REPLY}


BAD_BODIES = {
    "not json": (b'{"messages": [', "not valid UTF-8 JSON"),
    "not utf-8": (b'{"messages": "\xff"}', "not valid UTF-8 JSON"),
    "not an object": (b"[]", "must be a JSON object"),
    "no messages": (b'{"prompt": "hi"}', 'needs "messages", a non-empty list'),
    "messages not a list": (b'{"messages": "hi"}', 'needs "messages", a non-empty list'),
    "empty messages": (b'{"messages": []}', 'needs "messages", a non-empty list'),
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
