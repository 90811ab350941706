"""The server's own settings: flags (``voigpt serve --port ...``), else ``VOIGPT_*``
variables, else the defaults; every value checked (``settings_values.py``) before anything
binds or connects.

The connection settings (base URL, proxy, timeout...) are ``voigpt.config.Settings``, as
for every other command; these are the ones only a server has.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any

import attrs

from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import StateLocation
from voigpt.entrypoints.server.settings_values import PARSERS

ENVIRONMENT = {
    "host": "VOIGPT_HOST",
    "port": "VOIGPT_PORT",
    "api_keys": "VOIGPT_API_KEYS",
    "allow_unauthenticated": "VOIGPT_ALLOW_UNAUTHENTICATED",
    "max_concurrency": "VOIGPT_MAX_CONCURRENCY",
    "queue_timeout": "VOIGPT_QUEUE_TIMEOUT",
    "max_body_bytes": "VOIGPT_MAX_BODY_BYTES",
    "workers": "VOIGPT_WORKERS",
    "drain_timeout": "VOIGPT_DRAIN_TIMEOUT",
    "cors_origins": "VOIGPT_CORS_ORIGINS",
    "log_prompts": "VOIGPT_LOG_PROMPTS",
    "max_header_bytes": "VOIGPT_MAX_HEADER_BYTES",
    "head_timeout": "VOIGPT_HEAD_TIMEOUT",
    "body_timeout": "VOIGPT_BODY_TIMEOUT",
    "model_aliases": "VOIGPT_MODEL_ALIASES",
    "responses_max": "VOIGPT_RESPONSES_MAX",
    "responses_ttl": "VOIGPT_RESPONSES_TTL",
    "state": "VOIGPT_STATE",
    "site_rate": "VOIGPT_SITE_RATE",
    "site_concurrency": "VOIGPT_SITE_CONCURRENCY",
    "cache_ttl": "VOIGPT_CACHE_TTL",
}
REDIS_PASSWORD = "VOIGPT_REDIS_PASSWORD"
STATE_FILE = "state.sqlite3"  # voigpt serve's default state, in the user's state directory
_FLAG_NAMES = {"api_keys": "--api-key", "cors_origins": "--cors-origin",
               "model_aliases": "--model-alias"}
LOOPBACK_NAMES = ("localhost",)


@attrs.frozen
class ServerSettings:
    """``repr`` never shows the API keys, only how many there are."""

    host: str = "127.0.0.1"
    port: int = 8080
    api_keys: tuple[str, ...] = attrs.field(default=(), repr=lambda keys: f"<{len(keys)} keys>")
    allow_unauthenticated: bool = False
    max_concurrency: int = 64
    queue_timeout: float = 1.0
    max_body_bytes: int = 1024 * 1024
    workers: int = 1
    drain_timeout: float = 30.0
    cors_origins: tuple[str, ...] = ()
    log_prompts: bool = False
    # What ``voigpt serve``'s own HTTP server allows a connection (``connections.py``); an
    # app embedded in another server leaves these to that server.
    max_header_bytes: int = 64 * 1024
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    # More model ids the site's model answers (``model_ids.py``): exact ids or globs.
    model_aliases: tuple[str, ...] = ()
    # Stored responses (the Responses API), in memory: at most this many (0: none is
    # stored), each for at most this many seconds; the oldest go first.
    responses_max: int = 1000
    responses_ttl: float = 3600.0
    # Where the state the fleet shares lives (token, pace, stored responses, reply cache):
    # None is the process alone (an embedded app, tests); the ``voigpt serve`` command
    # defaults to a SQLite file in the user's state directory (``default_state``).
    state: StateLocation | None = None
    # The site's pace across the fleet: completions started per second, and in flight.
    site_rate: float | None = None
    site_concurrency: int | None = None
    # Serve identical requests from the reply cache for this many seconds (None: off).
    cache_ttl: float | None = None

    @classmethod
    def load(cls, *, environ: Mapping[str, str] | None = None, **flags: Any) -> ServerSettings:
        """``flags`` are the command line's values (None when not given), which win over
        the environment. Errors name the flag or the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, variable in ENVIRONMENT.items():
            parse = PARSERS[name]
            flag = flags.get(name)
            if flag is not None and flag != []:
                values[name] = parse(flag, _FLAG_NAMES.get(name, "--" + name.replace("_", "-")))
            elif env.get(variable):
                values[name] = parse(env[variable], f"${variable}")
        state = values.get("state")
        if state is not None and state.kind == "redis" and state.password is None \
                and env.get(REDIS_PASSWORD):
            values["state"] = attrs.evolve(state, password=env[REDIS_PASSWORD])
        settings = cls(**values)
        settings.check_exposure()
        return settings

    @property
    def loopback(self) -> bool:
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def check_exposure(self) -> None:
        """Refuse to serve a non-loopback address to anyone without a key, unless told to."""
        if not self.loopback and not self.api_keys and not self.allow_unauthenticated:
            raise InvalidConfig(
                f"refusing to bind {self.host} (not a loopback address) without an API key: "
                "pass --api-key KEY (or VOIGPT_API_KEYS), or --allow-unauthenticated "
                "if the network in front of it is trusted"
            )


def default_state(environ: Mapping[str, str] | None = None) -> StateLocation:
    """``voigpt serve``'s state when neither ``--state`` nor ``VOIGPT_STATE`` names one: a
    SQLite file in the user's state directory, ``$XDG_STATE_HOME/voigpt/state.sqlite3``, or
    ``~/.local/state/voigpt/state.sqlite3`` when ``XDG_STATE_HOME`` is unset, empty or not
    an absolute path (the XDG Base Directory rules). The SQLite adapter creates it on first
    use: the directories 0700, the file 0600."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):
        home = env.get("HOME") or os.path.expanduser("~")
        base = os.path.join(home, ".local", "state")
    return StateLocation("sqlite", path=os.path.join(base, "voigpt", STATE_FILE))


def state_setting(flag: object, environ: Mapping[str, str] | None = None) -> str:
    """The setting the state came from, for an error to name: ``--state``,
    ``$VOIGPT_STATE``, or the default (which ``--state`` changes)."""
    env = os.environ if environ is None else environ
    if flag:
        return "--state"
    if env.get(ENVIRONMENT["state"]):
        return "$" + ENVIRONMENT["state"]
    return "the default --state"
