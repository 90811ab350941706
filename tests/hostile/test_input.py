"""Class 4 (input side) and validation at construction: bad input is refused before any I/O,
as an ``InvalidInput`` naming the setting, when the client is built or at the latest when
the call starts, and never as a bare ``OverflowError``, ``UnicodeEncodeError``,
``UnboundLocalError`` or ``LocationParseError`` at call time. A recording server proves
nothing connected. Value objects cannot be built invalid."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import voigpt
from tests.hostile.checks import Outcome, expect_error, qualified, run
from tests.hostile.conftest import ClientLike, MakeClient
from tests.hostile.servers import HostileServer

Serve = Callable[..., HostileServer]


@pytest.fixture
def site(serve: Serve) -> Iterator[HostileServer]:
    """A normal site that records every connection."""
    yield serve()


def build_and_ask(make_client: MakeClient, **settings: Any) -> Callable[[], str]:
    def call() -> str:
        client: ClientLike = make_client(**settings)
        return client.ask("hi")

    return call


def refused_before_io(
    outcome: Outcome, server: HostileServer, *, names: str, what: str
) -> BaseException:
    """An InvalidInput naming ``names`` (one of ``|``-separated words), and no connection."""
    error = expect_error(outcome, voigpt.InvalidInput, what=what)
    assert server.connections == 0, (
        f"{what}: refused, but only after {server.connections} connection(s) were made"
    )
    message = str(error).lower()
    assert any(name.lower() in message for name in names.split("|")), (
        f"{what}: the message does not name {names!r}: {error}"
    )
    return error


# -- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "timeout",
    [1e300, 10**12, 10**400, "1e300", float("inf"), float("nan"), -1, 0, True, "abc", 86401.0],
    ids=repr,
)
def test_bad_timeout_is_refused_before_io(
    make_client: MakeClient, site: HostileServer, timeout: Any
) -> None:
    outcome = run(build_and_ask(make_client, base_url=site.url, timeout=timeout))

    refused_before_io(outcome, site, names="timeout", what=f"timeout={timeout!r:.30}")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_reply_bytes", 0), ("max_reply_bytes", -1), ("max_reply_bytes", "many"),
        ("max_reply_bytes", True), ("retries", 11), ("retries", -1), ("retries", "2.5"),
        ("retries", True), ("backend", "aiohttp2"), ("base_url", "ftp://127.0.0.1/"),
        ("base_url", ""), ("base_url", 123), ("proxy", "socks4://127.0.0.1:1080"),
    ],
    ids=lambda value: repr(value)[:20],
)
def test_bad_setting_is_refused_before_io(
    make_client: MakeClient, site: HostileServer, setting: str, value: Any
) -> None:
    settings = {"base_url": site.url, setting: value}
    outcome = run(build_and_ask(make_client, **settings))

    refused_before_io(outcome, site, names=setting, what=f"{setting}={value!r}")


@pytest.mark.parametrize("bundle", ["missing", "not-pem", "empty", "binary", "broken-pem"])
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_unusable_ca_bundle_is_refused_before_io(
    make_client: MakeClient, site: HostileServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, bundle: str, variable: str,
) -> None:
    path = tmp_path / "bundle.pem"
    if bundle == "not-pem":
        path.write_text("this is not a certificate\n")
    elif bundle == "empty":
        path.write_bytes(b"")
    elif bundle == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif bundle == "broken-pem":
        path.write_text("-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv(variable, str(path))

    outcome = run(build_and_ask(make_client, base_url=f"https://127.0.0.1:{site.port}"))

    refused_before_io(outcome, site, names=variable, what=f"{variable} {bundle}")


@pytest.mark.parametrize(
    "credentials",
    ["用户:密码", "u:€", "€:p", "u:%E2%82%AC", "u:\U0001f600", "u:p\u0085"],
)
@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_proxy_credentials_outside_latin1_are_refused_before_io(
    make_client: MakeClient, site: HostileServer, credentials: str, scheme: str
) -> None:
    proxy = f"{scheme}://{credentials}@127.0.0.1:{site.port}"
    outcome = run(build_and_ask(make_client, base_url="http://voigpt.test", proxy=proxy,
                                timeout=2))

    refused_before_io(outcome, site, names="proxy", what=f"proxy {proxy!r}")


@pytest.mark.parametrize("credentials", ["ü:ö", "user:pässwörd", "u:%C3%BC"])
def test_latin1_proxy_credentials_work_or_are_refused_before_io(
    make_client: MakeClient, site: HostileServer, credentials: str
) -> None:
    """Printable Latin-1 is what proxy Basic authentication carries: it works (the site,
    acting as the proxy here, answers) or is refused up front; never a UnicodeEncodeError."""
    proxy = f"http://{credentials}@127.0.0.1:{site.port}"
    outcome = run(build_and_ask(make_client, base_url="http://voigpt.test", proxy=proxy,
                                timeout=2))

    if outcome.error is not None and isinstance(outcome.error, voigpt.InvalidInput):
        refused_before_io(outcome, site, names="proxy", what=f"proxy {proxy!r}")
    else:
        assert outcome.value == "reply to: hi", f"proxy {proxy!r}: {outcome.describe()}"


# -- base URLs -----------------------------------------------------------------------------------

MALFORMED_BASE_URLS = {
    "ipv6-unclosed": "http://[::1",
    "ipv6-bad-port": "http://[::1]:99999",
    "ipv6-garbage": "http://[zz::1]/",
    "ipv6-trailing": "http://[::1]x/",
    "port-99999": "http://127.0.0.1:99999",
    "port-letters": "http://127.0.0.1:abc",
    "label-64": "http://" + "a" * 64 + ".com",
    "host-over-253": "http://" + ".".join(["a" * 60] * 5) + ".com",
    "empty-label": "http://a..com",
    "ctl-in-host": "http://a\x01b.com",
    "no-host": "http://",
    "space-in-host": "http://a b.com",
}


@pytest.mark.parametrize("case", list(MALFORMED_BASE_URLS))
def test_malformed_base_url_is_refused_before_io(
    make_client: MakeClient, site: HostileServer, case: str
) -> None:
    outcome = run(build_and_ask(make_client, base_url=MALFORMED_BASE_URLS[case]))

    error = expect_error(outcome, voigpt.InvalidInput, what=f"base_url {case}")
    assert isinstance(error, voigpt.InvalidConfig), f"{case}: {qualified(error)}: {error}"
    assert "base_url" in str(error) or "base url" in str(error).lower(), (
        f"{case}: refused, but the message does not name base_url: {error}"
    )


CONTROL_PATHS = {
    "soh": "/a\x01b",
    "crlf-header-injection": "/a\r\nX-Injected: 1",
    "lf": "/a\nb",
    "nul": "/a\x00b",
    "del": "/a\x7fb",
    "tab": "/a\tb",
    "space": "/a b",
    "nel-u0085": "/a\u0085b",
    "line-separator-u2028": "/a\u2028b",
}


@pytest.mark.parametrize("case", list(CONTROL_PATHS))
def test_control_characters_in_the_base_url_never_reach_a_header(
    make_client: MakeClient, site: HostileServer, case: str
) -> None:
    """Refused up front (best), or percent-encoded everywhere: the request line, Origin and
    Referer carry no raw control character."""
    outcome = run(build_and_ask(make_client, base_url=site.url + CONTROL_PATHS[case]))

    if outcome.error is not None:
        refused_before_io(outcome, site, names="base_url|base url", what=f"base_url {case}")
        return
    lines = [line for request in site.requests for line in request.wire().split("\r\n")]
    raw = [line for line in lines
           if any((ord(c) < 0x20 and c not in "\r\n") or ord(c) >= 0x7F for c in line)]
    injected = [line for line in lines if line.startswith("X-Injected")]
    assert not raw and not injected, (
        f"{case}: accepted, and raw characters reached the wire in: {raw + injected}"
    )


@pytest.mark.parametrize("path", ["/ü", "/日本", "/€uro", "/caf%C3%A9", "/a%zz"])
def test_non_ascii_base_url_path_works_or_is_refused(
    make_client: MakeClient, site: HostileServer, path: str
) -> None:
    """Either the path is percent-encoded (request line, Origin, Referer all ASCII) and the
    call works, or InvalidConfig before any I/O; never UnicodeEncodeError."""
    outcome = run(build_and_ask(make_client, base_url=site.url + path, timeout=2))

    if outcome.error is not None:
        refused_before_io(outcome, site, names="base_url|base url", what=f"path {path!r}")
        return
    assert outcome.value == "reply to: hi", f"path {path!r}: {outcome.describe()}"
    lines = [line for request in site.requests for line in request.wire().split("\r\n")]
    raw = [line for line in lines if not line.isascii()]
    assert not raw, f"path {path!r}: accepted, and non-ASCII reached the wire in: {raw}"


# -- tokens ------------------------------------------------------------------------------------

BAD_TOKENS: list[Any] = ["a\r\nb", "a\nX-Injected: 1", "a;b=c", "ą" * 8, "a b", "a\x00b",
                         '"quoted"', "", 12345, b"bytes", "x" * 5000]


@pytest.mark.parametrize("token", BAD_TOKENS, ids=lambda t: repr(t)[:16])
def test_bad_explicit_token_is_refused_before_io(
    make_client: MakeClient, site: HostileServer, token: Any
) -> None:
    outcome = run(build_and_ask(make_client, base_url=site.url, access_token=token))
    if token == "" and outcome.error is None:  # "" may mean "no token", as None does
        return
    refused_before_io(outcome, site, names="access_token|token", what=f"access_token={token!r}")


@pytest.mark.parametrize("token", BAD_TOKENS, ids=lambda t: repr(t)[:16])
def test_bad_per_call_token_is_refused_before_io(
    make_client: MakeClient, site: HostileServer, token: Any
) -> None:
    client = make_client(base_url=site.url)
    messages = [{"role": "user", "content": "hi"}]

    outcome = run(lambda: client.complete(messages, access_token=token))

    if token == "" and outcome.error is None:
        return
    refused_before_io(outcome, site, names="access_token|token", what=f"access_token={token!r}")


# -- messages and value objects --------------------------------------------------------------

BAD_MESSAGES: dict[str, Any] = {
    "empty-list": [],
    "a-string": "hi",
    "none": None,
    "a-dict": {"role": "user", "content": "hi"},
    "missing-content": [{"role": "user"}],
    "unknown-role": [{"role": "robot", "content": "hi"}],
    "bytes-content": [{"role": "user", "content": b"hi"}],
    "lone-surrogate": [{"role": "user", "content": "a\ud800b"}],
    "extra-key": [{"role": "user", "content": "hi", "nick": "x"}],
    "item-not-a-dict": [["user", "hi"]],
}


@pytest.mark.parametrize("case", list(BAD_MESSAGES))
def test_bad_messages_are_refused_before_io(
    make_client: MakeClient, site: HostileServer, case: str
) -> None:
    client = make_client(base_url=site.url)

    outcome = run(lambda: client.complete(BAD_MESSAGES[case]))

    error = expect_error(outcome, voigpt.InvalidInput, what=f"messages {case}")
    assert site.connections == 0, f"{case}: refused only after connecting: {error}"


def _bad_values() -> dict[str, Callable[[], Any]]:
    Role, Message, Conversation = voigpt.Role, voigpt.Message, voigpt.Conversation
    return {
        "Conversation(())": lambda: Conversation(()),
        "Conversation([])": lambda: Conversation([]),
        "Conversation(['x'])": lambda: Conversation(["x"]),  # type: ignore[list-item]
        "Conversation([None])": lambda: Conversation([None]),  # type: ignore[list-item]
        "Message(USER, b'x')": lambda: Message(Role.USER, b"x"),  # type: ignore[arg-type]
        "Message(USER, None)": lambda: Message(Role.USER, None),  # type: ignore[arg-type]
        "Message(USER, surrogate)": lambda: Message(Role.USER, "\ud800"),
        "Message('robot', 'x')": lambda: Message("robot", "x"),
        "AccessToken('a\\r\\nb')": lambda: voigpt.AccessToken("a\r\nb"),
        "AccessToken('a;b')": lambda: voigpt.AccessToken("a;b"),
        "AccessToken('')": lambda: voigpt.AccessToken(""),
        "AccessToken(b'x')": lambda: voigpt.AccessToken(b"x"),  # type: ignore[arg-type]
    }


@pytest.mark.parametrize("case", list(_bad_values()))
def test_value_objects_cannot_be_built_invalid(
    make_client: MakeClient, site: HostileServer, case: str
) -> None:
    built = run(_bad_values()[case])
    if built.error is not None:
        assert isinstance(built.error, voigpt.VoiGptError | ValueError | TypeError), (
            f"{case}: {built.describe()}"
        )
        assert isinstance(built.error, voigpt.InvalidInput), (
            f"{case}: refused, but prefer InvalidInput: {built.describe()}"
        )
        return
    # Built anyway: the client must refuse it before any connection.
    value = built.value
    client = make_client(base_url=site.url)
    if isinstance(value, voigpt.AccessToken):
        outcome = run(lambda: client.complete([{"role": "user", "content": "hi"}],
                                              access_token=value))
    elif isinstance(value, voigpt.Message):
        outcome = run(lambda: client.complete(voigpt.Conversation([value])))
    else:
        outcome = run(lambda: client.complete(value))
    expect_error(outcome, voigpt.InvalidInput, what=f"{case} (built, then sent)")
    assert site.connections == 0, f"{case}: built invalid and only refused after connecting"
