"""Driven adapters (the use case calls them), each named after what it is built on:
``requests`` (HTTP), ``memory`` (token caches and fakes), ``monotonic`` (the clock).
``site`` is voigpt.com's wire format, shared by every HTTP adapter."""
