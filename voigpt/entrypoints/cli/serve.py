"""``voigpt serve``: check every setting, start the emulator for ``--backend local``, then
run the OpenAI-compatible server until SIGTERM or Ctrl-C (exit 0)."""

from __future__ import annotations

import argparse
import importlib.util
from typing import TYPE_CHECKING, TextIO

from voigpt.domain.errors import InvalidConfig

if TYPE_CHECKING:
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
    from voigpt.entrypoints.server.settings import ServerSettings

    server = ServerSettings.load(**{name: getattr(args, name) for name in _SERVER_FLAGS})
    secrets.remember(*server.api_keys, server.state.password if server.state else None)
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
