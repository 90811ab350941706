"""``scrub`` and ``excerpt`` leave no form of a secret: as sent, or percent-encoded however
an echo encoded it (any of its characters, hex digits in either case), and no piece of one
cut off where a long body's excerpt stops reading."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voigpt.adapters.site.answers import EXCERPT_LIMIT, excerpt, scrub

TOKEN_CHARS = "!#$%&'*+-.^_`|~" + "0123456789abcdefXYZ"  # what a cookie value may hold
SECRET = "Tk7#Qz9%Wm4&Lp2!Rb8'Yc3*Vn6+Hd1$Gf5^Js0`Ek7|Xa2~Zr4"


@st.composite
def echoed(draw: st.DrawFn, alphabet: str) -> tuple[str, str]:
    """A secret, and the secret as an echo may percent-encode it: each character as is or
    escaped (each byte of its UTF-8), each hex digit upper or lower case."""
    secret = draw(st.text(alphabet, min_size=3, max_size=40))
    pieces = []
    for char in secret:
        if draw(st.booleans()):
            pieces.append(char)
            continue
        for byte in char.encode("utf-8"):
            pair = f"{byte:02X}"
            pieces.append("%" + (pair.lower() if draw(st.booleans()) else pair))
    return secret, "".join(pieces)


@given(echoed(TOKEN_CHARS))
def test_a_token_echoed_in_any_percent_encoding_is_scrubbed(pair: tuple[str, str]) -> None:
    secret, echo = pair

    assert scrub(f"<p>{echo}</p>", [secret]) == "<p>***</p>"


@given(echoed("abcXYZ019/?#@%é "))
def test_a_proxy_password_of_any_printable_latin1_is_scrubbed_in_any_encoding(
    pair: tuple[str, str],
) -> None:
    secret, echo = pair

    assert scrub(f"<{echo}>", [secret]) == "<***>"


def test_a_latin1_escape_and_a_forms_plus_are_encodings_too() -> None:
    assert scrub("p=pa%E9ss+word", ["paéss word"]) == "p=***"


def test_a_secret_cut_off_where_a_long_excerpt_stops_reading_leaves_no_piece() -> None:
    # Secrets before it shrink to "***", so the cut-off one would fall within the excerpt.
    dense = f"{SECRET} " * 90
    encoded = "".join(f"%{byte:02X}" for byte in SECRET.encode())
    for pad in range(0, 2 * EXCERPT_LIMIT, 3):
        shown = excerpt(dense + "y" * pad + encoded + "z" * 10_000, [SECRET])
        assert shown.endswith("…") and len(shown) <= EXCERPT_LIMIT
        assert "%54%6B" not in shown and "Tk7" not in shown, pad


def test_an_excerpt_of_a_body_dense_with_secrets_shows_only_stars() -> None:
    shown = excerpt(f"{SECRET} " * 100_000, [SECRET])

    assert shown.endswith("…") and set(shown[:-1]) <= {"*", " "}


def test_an_excerpt_is_the_start_of_the_body_stripped_and_marked_where_cut() -> None:
    assert excerpt("  short  ") == "short"
    assert excerpt("a" * EXCERPT_LIMIT + " \n") == "a" * EXCERPT_LIMIT
    assert excerpt("b" * 10 * 1024 * 1024) == "b" * (EXCERPT_LIMIT - 1) + "…"
