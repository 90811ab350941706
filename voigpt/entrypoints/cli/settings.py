"""The connection settings of every command that talks to the site: the flags, then
``VOIGPT_*``, through ``Settings``; and, for ``--backend local``, the bundled emulator
started for the command's lifetime."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voigpt.config import Settings
    from voigpt.logs import SecretsFilter

# Flags name themselves in errors: "--timeout must be a number of seconds".
FLAGS = ("base_url", "proxy", "access_token", "timeout", "retries", "backend")
LABELS = {name: "--" + name.replace("_", "-") for name in FLAGS}


def settings_from(args: argparse.Namespace, secrets: SecretsFilter) -> Settings:
    """Checked settings; their secrets are remembered by ``secrets`` before anything logs."""
    from voigpt.config import Settings

    settings = Settings.load(labels=LABELS, **{name: getattr(args, name) for name in FLAGS})
    secrets.remember(
        settings.access_token.value if settings.access_token else None,
        settings.proxy.password if settings.proxy else None,
    )
    return settings


@contextlib.contextmanager
def reachable_site(settings: Settings) -> Iterator[Settings]:
    """``settings`` as given; with ``--backend local``, pointed at an emulator started
    in-process, which stops when the block ends."""
    import attrs

    from voigpt.config import DEFAULT_BASE_URL, LOCAL
    from voigpt.domain.errors import InvalidConfig

    if settings.backend != LOCAL:
        yield settings
        return
    if settings.base_url != DEFAULT_BASE_URL:
        raise InvalidConfig("--backend local runs its own emulator; drop --base-url")
    from voigpt.emulator import Emulator

    with Emulator() as emulator:
        yield attrs.evolve(settings, base_url=emulator.url, backend="http")
