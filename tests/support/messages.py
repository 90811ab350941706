"""The messages and replies the tests share: one short conversation and what each backend
answers to it. The replies are written out, not computed, so a change in either is noticed."""

from __future__ import annotations

HELLO = [{"role": "user", "content": "Hello"}]
EMULATOR_REPLY = "[voigpt emulator] You said: Hello"  # the emulator's (and the site's) answer
FAKE_REPLY = "[voigpt fake] You said: Hello"  # the in-memory fake transport's answer
