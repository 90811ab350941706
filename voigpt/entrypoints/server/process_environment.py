"""What every process of ``voigpt serve`` takes from the command that started it: its
settings, as the ``VOIGPT_*`` variables (a ``--workers`` process is a new interpreter that
reads them back, ``app_from_environment``), and its log config, whose secrets filter reads
the same variables so that no key, token or password reaches a log line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from voigpt.config import Settings
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.logs import SecretsFilter


def environment_for(settings: Settings, server: ServerSettings) -> Mapping[str, str]:
    """The variables each worker process reads its settings from."""
    values = {
        "VOIGPT_BASE_URL": settings.base_url, "VOIGPT_BACKEND": settings.backend,
        "VOIGPT_RETRIES": str(settings.retries),
        "VOIGPT_MAX_REPLY_BYTES": str(settings.max_reply_bytes),
        "VOIGPT_MAX_CONNECTIONS": str(settings.max_connections),
        "VOIGPT_HOST": server.host, "VOIGPT_MAX_CONCURRENCY": str(server.max_concurrency),
        "VOIGPT_QUEUE_TIMEOUT": str(server.queue_timeout),
        "VOIGPT_MAX_BODY_BYTES": str(server.max_body_bytes),
        "VOIGPT_MAX_HEADER_BYTES": str(server.max_header_bytes),
        "VOIGPT_HEAD_TIMEOUT": str(server.head_timeout),
        "VOIGPT_BODY_TIMEOUT": str(server.body_timeout),
        "VOIGPT_ALLOW_UNAUTHENTICATED": str(server.allow_unauthenticated),
        "VOIGPT_LOG_PROMPTS": str(server.log_prompts),
        "VOIGPT_API_KEYS": ",".join(server.api_keys),
        "VOIGPT_CORS_ORIGINS": ",".join(server.cors_origins),
        "VOIGPT_MODEL_ALIASES": ",".join(server.model_aliases),
        "VOIGPT_RESPONSES_MAX": str(server.responses_max),
        "VOIGPT_RESPONSES_TTL": str(server.responses_ttl),
    }
    if server.state is not None:
        values["VOIGPT_STATE"] = server.state.url
        if server.state.password is not None:
            values["VOIGPT_REDIS_PASSWORD"] = server.state.password
    for name, value in (("VOIGPT_SITE_RATE", server.site_rate),
                        ("VOIGPT_SITE_CONCURRENCY", server.site_concurrency),
                        ("VOIGPT_CACHE_TTL", server.cache_ttl)):
        if value is not None:
            values[name] = str(value)
    if settings.timeout is not None:
        values["VOIGPT_TIMEOUT"] = str(settings.timeout)
    if settings.proxy is not None:
        values["VOIGPT_PROXY"] = settings.proxy.url
    if settings.access_token is not None:
        values["VOIGPT_ACCESS_TOKEN"] = settings.access_token.value
    return values


def secrets_filter() -> SecretsFilter:
    """The log filter of this process: it knows the keys, the token and the proxy password
    from the variables (``log_config`` names it, so every worker builds its own)."""
    secrets = SecretsFilter()
    secrets.remember(*os.environ.get("VOIGPT_API_KEYS", "").split(","),
                     os.environ.get("VOIGPT_REDIS_PASSWORD") or None)
    with contextlib.suppress(Exception):
        settings = Settings.load()
        secrets.remember(
            settings.access_token.value if settings.access_token else None,
            settings.proxy.password if settings.proxy else None,
        )
    return secrets


def log_config(verbose: bool) -> dict[str, Any]:
    level = "DEBUG" if verbose else "INFO"
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
               "formatter": "plain", "filters": ["secrets"]}
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"secrets": {"()": secrets_filter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "voigpt": {"handlers": ["stderr"], "level": level if verbose else "WARNING",
                       "propagate": False},
        },
    }
