"""What a test needs from the site besides a client: a token it issued earlier."""

from __future__ import annotations

import requests

from voigpt.emulator import Emulator


def token_issued_by(emulator: Emulator) -> str:
    """A csrftoken the emulator issued to someone else, as a user copies one from a browser.
    The emulator's records are reset after, so they show only what the test itself causes
    (the token stays valid)."""
    with requests.Session() as browser:
        token = browser.get(emulator.url + "/", timeout=5).cookies["csrftoken"]
    emulator.reset_records()
    return token
