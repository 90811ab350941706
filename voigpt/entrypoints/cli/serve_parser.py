"""``voigpt serve``'s flags. Each also comes from a ``VOIGPT_*`` variable (flags win);
the server's own settings are checked in ``voigpt.entrypoints.server.settings``."""

from __future__ import annotations

import argparse
from typing import Any


def add_serve_parser(commands: Any, connection: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve", parents=[connection],
        help="run an OpenAI-compatible server (needs voigpt[server])",
        description="Serve POST /v1/chat/completions, POST /v1/responses, POST /v1/completions, "
        "POST /v1/messages, /v1/models, "
        "/health, /metrics and a chat page at /. Every flag also comes from its VOIGPT_* variable "
        "(VOIGPT_HOST, VOIGPT_PORT, VOIGPT_API_KEYS comma-separated, ...).",
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", help="port to bind (default 8080; 0 picks a free one)")
    serve.add_argument(
        "--api-key", dest="api_keys", action="append", metavar="KEY",
        help="require 'Authorization: Bearer KEY' on /v1/* (repeat for several keys)",
    )
    serve.add_argument(
        "--allow-unauthenticated", action="store_true", default=None,
        help="allow binding a non-loopback address without any --api-key",
    )
    serve.add_argument(
        "--max-concurrency", metavar="N",
        help="completions in flight upstream (default 64); beyond it requests wait "
        "--queue-timeout seconds, then get 429",
    )
    serve.add_argument(
        "--queue-timeout", metavar="SECONDS",
        help="how long a request waits for a free slot before a 429 (default 1)",
    )
    serve.add_argument(
        "--max-body-bytes", metavar="N", help="largest request body (default 1048576)"
    )
    serve.add_argument(
        "--max-header-bytes", metavar="N",
        help="largest request line and headers together (default 65536); past it, 431",
    )
    serve.add_argument(
        "--head-timeout", metavar="SECONDS",
        help="how long a connection may take to send a request's line and headers "
        "(default 10); then 408",
    )
    serve.add_argument(
        "--body-timeout", metavar="SECONDS",
        help="how long a request body may take to arrive whole (default 30); then 408",
    )
    serve.add_argument(
        "--workers", metavar="N",
        help="server processes (default 1); they share the site token, its pace and stored "
        "responses through --state",
    )
    serve.add_argument(
        "--drain-timeout", metavar="SECONDS",
        help="on SIGTERM, how long in-flight requests may finish (default 30)",
    )
    serve.add_argument(
        "--cors-origin", dest="cors_origins", action="append", metavar="ORIGIN",
        help="allow browser requests from this origin (repeat; default: no CORS)",
    )
    serve.add_argument(
        "--model-alias", dest="model_aliases", action="append", metavar="PATTERN",
        help="also accept this model id, or fnmatch glob ('gpt-4o*', '*'), and answer it "
        "with gpt-3.5-turbo (repeat for several)",
    )
    serve.add_argument(
        "--responses-max", metavar="N",
        help="stored responses (POST /v1/responses, store: true) kept in --state, the oldest "
        "forgotten first (default 1000; 0 stores none)",
    )
    serve.add_argument(
        "--responses-ttl", metavar="SECONDS",
        help="how long a stored response is kept (default 3600)",
    )
    serve.add_argument(
        "--state", metavar="URL",
        help="where the state the server's processes share lives (the site token, its pace, "
        "stored responses, cached replies): memory (this process alone), sqlite:///PATH "
        "(one machine) or redis://HOST:PORT/DB (a fleet; rediss:// for TLS; the password "
        "in the URL or in VOIGPT_REDIS_PASSWORD). Default: "
        "sqlite:///$XDG_STATE_HOME/voigpt/state.sqlite3 (~/.local/state/voigpt/ without "
        "XDG_STATE_HOME), made owner-only on first use. Checked before the server binds",
    )
    serve.add_argument(
        "--site-rate", metavar="R",
        help="completions started per second at most, across every process on --state",
    )
    serve.add_argument(
        "--site-concurrency", metavar="N",
        help="completions in flight at most, across every process on --state",
    )
    serve.add_argument(
        "--cache-ttl", metavar="SECONDS",
        help="answer identical requests (model, messages, tools, format) from a cache for "
        "this long (default: off)",
    )
    serve.add_argument(
        "--log-prompts", action="store_true", default=None,
        help="log prompts and replies at debug level (off by default)",
    )
