"""The connection limits of ``voigpt serve`` (``--max-header-bytes``, ``--head-timeout``,
``--body-timeout``): their defaults, their variables, the bounds they are checked against
(an error names the flag or the variable), and the variables a ``--workers`` process reads
them back from."""

from __future__ import annotations

from typing import Any

import pytest

from voigpt.config import Settings
from voigpt.domain.errors import InvalidConfig
from voigpt.entrypoints.server.process_environment import environment_for
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.entrypoints.server.watch import Limits


def test_the_defaults_are_a_64_kib_head_10_s_for_it_and_30_s_for_a_body() -> None:
    settings = ServerSettings.load(environ={})
    assert Limits.of(settings) == Limits(64 * 1024, 10.0, 30.0)


def test_flags_win_over_variables() -> None:
    environ = {"VOIGPT_MAX_HEADER_BYTES": "8192", "VOIGPT_HEAD_TIMEOUT": "2.5",
               "VOIGPT_BODY_TIMEOUT": "7"}
    assert Limits.of(ServerSettings.load(environ=environ)) == Limits(8192, 2.5, 7.0)
    flagged = ServerSettings.load(environ=environ, max_header_bytes="4096", head_timeout=None)
    assert Limits.of(flagged) == Limits(4096, 2.5, 7.0)


@pytest.mark.parametrize(
    ("flags", "environ", "named"),
    [
        ({"max_header_bytes": "1023"}, {}, "--max-header-bytes"),
        ({"max_header_bytes": str(16 * 1024**2 + 1)}, {}, "--max-header-bytes"),
        ({}, {"VOIGPT_MAX_HEADER_BYTES": "64KiB"}, "$VOIGPT_MAX_HEADER_BYTES"),
        ({"head_timeout": "0"}, {}, "--head-timeout"),
        ({}, {"VOIGPT_HEAD_TIMEOUT": "inf"}, "$VOIGPT_HEAD_TIMEOUT"),
        ({"body_timeout": "-1"}, {}, "--body-timeout"),
        ({}, {"VOIGPT_BODY_TIMEOUT": "3601"}, "$VOIGPT_BODY_TIMEOUT"),
    ],
)
def test_a_limit_out_of_bounds_is_refused_naming_where_it_came_from(
    flags: dict[str, Any], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidConfig) as info:
        ServerSettings.load(environ=environ, **flags)
    assert str(info.value).startswith(named)


def test_a_workers_process_reads_the_same_limits_back_from_its_variables() -> None:
    server = ServerSettings(max_header_bytes=2048, head_timeout=1.5, body_timeout=4.0)
    environ = dict(environment_for(Settings(), server))
    assert Limits.of(ServerSettings.load(environ=environ)) == Limits(2048, 1.5, 4.0)
