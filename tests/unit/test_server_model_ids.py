"""``ModelIds``, the one rule for model ids on every API ``voigpt serve`` speaks: the site's
model, an empty or missing id, and the ``--model-alias`` patterns (exact ids or
``fnmatch`` globs) are served by ``gpt-3.5-turbo``; any other id is refused with a message
naming it, the model served and the flag. Patterns are checked before anything starts, and
an error names the flag or the variable."""

from __future__ import annotations

from typing import Any

import pytest

from voigpt.domain.errors import InvalidConfig
from voigpt.entrypoints.server import model_ids
from voigpt.entrypoints.server.model_ids import ModelIds, UnknownModel, parse_aliases
from voigpt.entrypoints.server.settings import ServerSettings

SERVED = "gpt-3.5-turbo"


def test_without_aliases_only_the_sites_model_and_no_model_are_served() -> None:
    ids = ModelIds()
    assert [ids.resolve(x) for x in (SERVED, "", None)] == [SERVED] * 3
    assert ids.resolve("gpt-4o") is None
    assert ids.resolve("GPT-3.5-TURBO") is None  # ids are case-sensitive, as OpenAI's
    assert ids.listed() == (SERVED,)


def test_an_exact_alias_is_served_by_the_sites_model_and_listed() -> None:
    ids = ModelIds(("gpt-4o", "openai/gpt-3.5-turbo"))
    assert ids.resolve("gpt-4o") == SERVED
    assert ids.resolve("openai/gpt-3.5-turbo") == SERVED
    assert ids.resolve("gpt-4o-mini") is None
    assert ids.listed() == (SERVED, "gpt-4o", "openai/gpt-3.5-turbo")


@pytest.mark.parametrize(
    ("pattern", "accepted", "refused"),
    [
        ("gpt-4o*", ["gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06"], ["gpt-4", "xgpt-4o"]),
        ("*", ["gpt-5", "claude-sonnet-4", "a" * 10_000], []),
        ("gpt-3.5-turbo-????", ["gpt-3.5-turbo-0125"], ["gpt-3.5-turbo-16k"]),
        ("gpt-[45]", ["gpt-4", "gpt-5"], ["gpt-6", "gpt-[45]"]),
    ],
)
def test_a_glob_accepts_what_it_matches_and_is_not_listed(
    pattern: str, accepted: list[str], refused: list[str]
) -> None:
    ids = ModelIds((pattern,))
    for requested in accepted:
        assert ids.resolve(requested) == SERVED, requested
    for requested in refused:
        assert ids.resolve(requested) is None, requested
    assert ids.listed() == (SERVED,)


def test_glob_verdicts_are_cached_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = model_ids.fnmatchcase

    def counting(name: str, pattern: str) -> bool:
        calls.append(name)
        return real(name, pattern)

    monkeypatch.setattr(model_ids, "fnmatchcase", counting)
    monkeypatch.setattr(model_ids, "CACHE_SIZE", 3)
    ids = ModelIds(("gpt-4o*",))
    for _ in range(3):
        assert ids.resolve("gpt-4o-mini") == SERVED
        assert ids.resolve("gpt-4") is None
        assert ids.resolve(SERVED) == SERVED  # exact: never globbed
    assert calls == ["gpt-4o-mini", "gpt-4"]
    for index in range(10):
        ids.resolve(f"other-{index}")
    assert len(ids._cache) <= 3
    long = "gpt-4o" + "x" * model_ids.CACHED_ID_LENGTH
    assert ids.resolve(long) == SERVED
    assert long not in ids._cache  # a long id is globbed, never kept


def test_an_unknown_id_names_itself_the_model_served_and_the_flag() -> None:
    with pytest.raises(UnknownModel) as raised:
        ModelIds().require("gpt-4o")
    message = raised.value.message
    assert "'gpt-4o'" in message and SERVED in message
    assert "--model-alias gpt-4o" in message and "VOIGPT_MODEL_ALIASES" in message
    assert raised.value.param == "model"
    with pytest.raises(UnknownModel) as long:
        ModelIds().require("x" * 5000, param="model_id")
    assert len(long.value.message) < 500 and long.value.param == "model_id"
    assert "--model-alias PATTERN" in long.value.message


@pytest.mark.parametrize("requested", ["gpt-\ud800", "gpt 4", "gpt-4,o3", "gpt-\u00e9", "a\nb"])
def test_an_id_the_flag_would_refuse_is_shown_escaped_and_not_offered_to_it(
    requested: str,
) -> None:
    message = ModelIds().unknown(requested)
    assert repr(requested) in message and "--model-alias PATTERN" in message
    message.encode("utf-8")  # no lone surrogate: the answer can be sent


# --- the patterns, from the flag or the variable ----------------------------------------


def test_patterns_come_from_repeated_flags_or_a_comma_separated_variable() -> None:
    assert ServerSettings().model_aliases == ()
    by_flag = ServerSettings.load(environ={}, model_aliases=["gpt-4o*", "gpt-4", "gpt-4"])
    assert by_flag.model_aliases == ("gpt-4o*", "gpt-4")
    by_variable = ServerSettings.load(environ={"VOIGPT_MODEL_ALIASES": " gpt-4o*, o3 ,"})
    assert by_variable.model_aliases == ("gpt-4o*", "o3")
    both = ServerSettings.load(environ={"VOIGPT_MODEL_ALIASES": "o3"}, model_aliases=["*"])
    assert both.model_aliases == ("*",)


@pytest.mark.parametrize(
    ("flags", "environ", "named"),
    [
        ({"model_aliases": [""]}, {}, "--model-alias"),
        ({"model_aliases": ["gpt 4"]}, {}, "--model-alias"),
        ({"model_aliases": ["gpt-4o,o3"]}, {}, "--model-alias"),
        ({"model_aliases": ["x" * 201]}, {}, "--model-alias"),
        ({"model_aliases": ["gpt-\u00e9"]}, {}, "--model-alias"),
        ({}, {"VOIGPT_MODEL_ALIASES": " , "}, "$VOIGPT_MODEL_ALIASES"),
        ({}, {"VOIGPT_MODEL_ALIASES": "gpt-4o,\tx y"}, "$VOIGPT_MODEL_ALIASES"),
    ],
)
def test_an_empty_or_absurd_pattern_is_refused_naming_its_source(
    flags: dict[str, Any], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidConfig, match="model alias") as raised:
        ServerSettings.load(environ=environ, **flags)
    assert named in str(raised.value)


def test_more_patterns_than_anyone_needs_are_refused() -> None:
    with pytest.raises(InvalidConfig, match="more than"):
        parse_aliases([f"m{index}" for index in range(model_ids.MAX_PATTERNS + 1)], "--x")
