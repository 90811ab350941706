"""``voigpt serve``: check every setting and open the shared state once, start the emulator
for ``--backend local``, then run the OpenAI-compatible server until SIGTERM or Ctrl-C
(exit 0).

The state defaults to a SQLite file in the user's state directory (``default_state``);
``--state memory`` keeps it in the process. It is opened before anything binds, so that a
state that cannot be used (a corrupt, read-only or locked file, a directory, a password
Redis refuses) is one line and exit 2 naming the setting, not a server that fails its
start-up. A Redis that cannot be reached is not refused: the server starts on its own
state and joins the fleet when Redis comes (the app's start-up logs that warning)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
from typing import TYPE_CHECKING, TextIO

from voigpt.domain.errors import InvalidConfig

if TYPE_CHECKING:
    from voigpt.domain.state_location import StateLocation
    from voigpt.logs import SecretsFilter

_SERVER_FLAGS = (
    "host", "port", "api_keys", "allow_unauthenticated", "max_concurrency", "queue_timeout",
    "max_body_bytes", "workers", "drain_timeout", "cors_origins", "log_prompts",
    "max_header_bytes", "head_timeout", "body_timeout", "model_aliases", "responses_max",
    "responses_ttl", "state", "site_rate", "site_concurrency", "cache_ttl",
)


def run_serve(
    args: argparse.Namespace, *, stdout: TextIO, stderr: TextIO, secrets: SecretsFilter
) -> int:
    missing = [name for name in ("fastapi", "uvicorn", "prometheus_client", "aiohttp")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise InvalidConfig(
            f"voigpt serve needs {', '.join(missing)}: pip install 'voigpt[server]'"
        )
    import attrs

    from voigpt.entrypoints.cli.settings import reachable_site, settings_from
    from voigpt.entrypoints.server.run import serve
    from voigpt.entrypoints.server.settings import ServerSettings, default_state, state_setting

    server = ServerSettings.load(**{name: getattr(args, name) for name in _SERVER_FLAGS})
    if server.state is None:
        server = attrs.evolve(server, state=default_state())
    assert server.state is not None
    secrets.remember(*server.api_keys, server.state.password)
    check_state(server.state, state_setting(args.state))
    settings = settings_from(args, secrets)
    # The pool holds at least as many connections as completions may be in flight.
    settings = attrs.evolve(
        settings, max_connections=max(settings.max_connections, server.max_concurrency)
    )
    with reachable_site(settings) as reachable:
        if reachable.base_url != settings.base_url:
            print(f"voigpt serve: the bundled emulator stands in for voigpt.com at "
                  f"{reachable.base_url}", file=stdout, flush=True)
        return serve(reachable, server, verbose=args.verbose, stdout=stdout)


def check_state(location: StateLocation, where: str) -> None:
    """Open the state at ``location`` once and close it: ``InvalidConfig`` naming ``where``
    (the setting) and the location as shown (never its password) if it cannot be used.
    Bounded by the adapters' own timeouts (SQLite's busy timeout, Redis's connect timeout).
    The adapter's warning for a Redis out of reach is left to the app's start-up, which
    logs it once through the server's log set-up."""
    from voigpt.container import build_state

    async def check() -> None:
        state = build_state(location)
        try:
            await state.open()
        finally:
            await state.aclose()

    log = logging.getLogger("voigpt.state")
    quiet = _Quiet()
    log.addFilter(quiet)
    try:
        asyncio.run(check())
    except (InvalidConfig, OSError) as exc:
        reason = str(exc)
        if reason.startswith("state "):  # the adapters' "state SHOWN: problem"
            reason = reason[len("state "):]
        if not reason.startswith(location.shown):
            reason = f"{location.shown}: {reason}"
        raise InvalidConfig(f"{where} {reason}") from None
    finally:
        log.removeFilter(quiet)


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False
