"""The log filter masks a secret it was told of in every form a log line shows it in: as
set, percent-encoded by any encoder's rules (an access log's URL), and escaped by ``repr`` or
JSON (a backslash or quote doubled). The key rule allows ``\\ < > | { } %`` and quotes, so
every one of them is tried; any printable ASCII key, by hypothesis."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voigpt.logs import SecretsFilter

KEY = r"sk-a\b<c>|d{e}%f'g" + '"h'
PASSWORD = "p\u00e4ss w\u20acrd"

FORMS: dict[str, Callable[[str], str]] = {
    "as set": lambda secret: secret,
    "percent-encoded": lambda secret: quote(secret, safe=""),
    "percent-encoded, lower-case hex": lambda secret: _lower_hex(quote(secret, safe="")),
    "percent-encoded, some left": lambda secret: quote(secret, safe="<>|{}'\""),
    "form-encoded": quote_plus,
    "repr": repr,
    "JSON": lambda secret: json.dumps(secret, ensure_ascii=False),
    "JSON, ASCII only": lambda secret: json.dumps(secret, ensure_ascii=True),
    "repr of the percent-encoded": lambda secret: repr(quote(secret, safe="")),
}


def _lower_hex(text: str) -> str:
    pieces = text.split("%")
    return pieces[0] + "".join("%" + p[:2].lower() + p[2:] for p in pieces[1:])


def logged(secrets: SecretsFilter, message: str, *args: object) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args, None)
    assert secrets.filter(record)
    return record.getMessage()


@pytest.mark.parametrize("secret", [KEY, PASSWORD], ids=["key", "password"])
@pytest.mark.parametrize("form", list(FORMS))
def test_a_known_secret_is_masked_in_every_form_a_log_line_shows(secret: str, form: str) -> None:
    secrets = SecretsFilter()
    secrets.remember(secret)
    shown = FORMS[form](secret)
    line = logged(secrets, '127.0.0.1:5 - "GET /v1/models?api_key=%s HTTP/1.1" 401', shown)
    assert line == '127.0.0.1:5 - "GET /v1/models?api_key=' + _masked(shown, secret) + (
        ' HTTP/1.1" 401')


def _masked(shown: str, secret: str) -> str:
    """What is left of ``shown`` around the secret: the quotes repr and JSON add."""
    if shown[:1] in "'\"" and shown[-1:] == shown[:1] and secret[:1] not in "'\"":
        return shown[0] + "***" + shown[-1]
    return "***"


def test_the_text_around_a_secret_and_other_text_are_left_alone() -> None:
    secrets = SecretsFilter()
    secrets.remember(KEY)
    line = logged(secrets, "keys %s and %s, not %s", quote(KEY, safe=""), KEY, "sk-a%5Cb")
    assert line == "keys *** and ***, not sk-a%5Cb"


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","),
               min_size=4, max_size=40))
def test_any_key_the_key_rule_allows_is_masked_percent_encoded_and_escaped(key: str) -> None:
    secrets = SecretsFilter()
    secrets.remember(key)
    for form, show in FORMS.items():
        line = logged(secrets, "[%s]", show(key))
        assert key not in line and quote(key, safe="") not in line, (form, line)
        assert "***" in line, (form, line)
