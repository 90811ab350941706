"""How the command line words a failure (``voigpt.entrypoints.cli.failures``): exit code,
type, message and line, and the wording a shell user needs."""

from __future__ import annotations

import json

import pytest

from voigpt.domain.errors import AccessRejected, ConnectionFailed, InvalidConfig, InvalidInput
from voigpt.entrypoints.cli.failures import Failure, UsageError, as_flags


@pytest.mark.parametrize(
    ("hint", "worded"),
    [
        ("(or use backend='fake' offline)", "(or use --backend fake offline)"),
        ('set base_url="http://127.0.0.1:8000"', "set --base-url http://127.0.0.1:8000"),
        ("timeout=5, retries=0", "--timeout 5, --retries 0"),
        ("access_token='x')", "--access-token x)"),
        ("max_reply_bytes=10 and my_backend=1", "max_reply_bytes=10 and my_backend=1"),
        ("or pass no access_token and let voigpt fetch one",
         "or pass no --access-token and let voigpt fetch one"),
        ("the proxy refused; the timeout ran out", "the proxy refused; the timeout ran out"),
        ("VOIGPT_ACCESS_TOKEN and my.base_url", "VOIGPT_ACCESS_TOKEN and my.base_url"),
    ],
)
def test_library_keyword_hints_are_reworded_as_flags(hint: str, worded: str) -> None:
    assert as_flags(hint) == worded


def test_a_config_error_from_the_library_speaks_in_flags() -> None:
    exc = InvalidConfig("aiohttp is not installed: pip install 'voigpt[async]' "
                        "(or use backend='fake' offline)")
    failure = Failure.of(exc)
    assert failure.code == 2
    assert failure.line == ("voigpt: error: aiohttp is not installed: pip install "
                            "'voigpt[async]' (or use --backend fake offline)")


@pytest.mark.parametrize(("module", "extra"),
                         [("aiohttp_socks", "async"), ("uvicorn.config", "server"),
                          ("tqdm", "batch")])
def test_a_missing_optional_module_names_its_extra(module: str, extra: str) -> None:
    failure = Failure.of(ModuleNotFoundError(f"No module named {module!r}", name=module))
    top = module.partition(".")[0]
    assert (failure.code, failure.type) == (2, "ModuleNotFoundError")
    assert failure.line == f"voigpt: error: {top} is not installed: pip install 'voigpt[{extra}]'"


def test_a_missing_module_that_is_no_extra_stays_an_internal_error() -> None:
    failure = Failure.of(ModuleNotFoundError("No module named 'nonesuch'", name="nonesuch"))
    assert failure.code == 1
    assert failure.line.startswith("voigpt: internal error: ModuleNotFoundError: ")


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (InvalidInput("the prompt is empty"), 2, "voigpt: error: the prompt is empty"),
        (ConnectionFailed("could not\nconnect"), 1, "voigpt: ConnectionFailed: could not connect"),
        (OSError(28, "No space left on device"), 1, "voigpt: [Errno 28] No space left on device"),
        (KeyboardInterrupt(), 130, "voigpt: interrupted"),
        (UsageError("expected one argument", prog="voigpt ask", usage="usage: voigpt ask\n"), 2,
         "voigpt ask: error: expected one argument"),
        (ValueError("boom"), 1, "voigpt: internal error: ValueError: boom (-v shows where)"),
    ],
)
def test_each_kind_keeps_its_exit_code_and_line(exc: BaseException, code: int, line: str) -> None:
    failure = Failure.of(exc)
    assert (failure.code, failure.line) == (code, line)


def test_the_json_form_is_type_and_message_scrubbed() -> None:
    failure = Failure.of(ConnectionFailed("proxy http://u:SECRET@h refused"),
                         lambda text: text.replace("SECRET", "***"))
    assert json.loads(failure.json()) == {
        "error": {"type": "ConnectionFailed", "message": "proxy http://u:***@h refused"}
    }


def test_a_rejected_token_tells_a_shell_user_the_flag() -> None:
    exc = AccessRejected("the service rejected the access token you supplied; get a fresh "
                         "csrftoken from the site, or pass no access_token and let voigpt "
                         "fetch one", status=403, explicit=True)
    assert Failure.of(exc).line.endswith("or pass no --access-token and let voigpt fetch one")


def test_secrets_are_scrubbed_before_the_wording_changes() -> None:
    secret = "pw timeout=5"  # a proxy password may hold what looks like a hint
    failure = Failure.of(ConnectionFailed(f"proxy http://u:{secret}@h refused"),
                         lambda text: text.replace(secret, "***"))
    assert failure.message == "proxy http://u:***@h refused"
