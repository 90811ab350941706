"""The whole-number settings take the same forms: ``3`` or ``"3"``, never a bool, a fraction
or a float's text, and name the range when refusing."""

from __future__ import annotations

import pytest

from voigpt import InvalidConfig
from voigpt.domain.setting_values import parse_max_connections, parse_retries


@pytest.mark.parametrize("parse", [parse_retries, parse_max_connections])
@pytest.mark.parametrize("value", [2.5, "2.0", True, "two", None, -1])
def test_a_whole_number_setting_refuses(parse: object, value: object) -> None:
    with pytest.raises(InvalidConfig, match=r"where must be a whole number"):
        parse(value, "where")  # type: ignore[operator]


def test_a_whole_number_setting_takes_text_and_names_its_range() -> None:
    assert parse_retries(" 3 ", "retries") == 3
    assert parse_max_connections("10000", "max_connections") == 10000
    with pytest.raises(InvalidConfig, match="from 1 to 10000, got 10001"):
        parse_max_connections(10001, "max_connections")
