"""Single flight for a token cache: on a miss, one caller fetches while the others wait."""

from __future__ import annotations

import threading
from collections.abc import Callable

from voigpt.domain.values import AccessToken


def acquire_once(
    get: Callable[[], AccessToken | None],
    put: Callable[[AccessToken], None],
    fetch: Callable[[], AccessToken],
    lock: threading.Lock,
) -> AccessToken:
    """The cached token, or ``fetch()``'s, fetched by one thread however many miss at once."""
    token = get()
    if token is not None:
        return token
    with lock:
        token = get()
        if token is None:
            token = fetch()
            put(token)
        return token
