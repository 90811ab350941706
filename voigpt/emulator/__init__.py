"""A local, faithful emulator of voigpt.com for tests and demos (stdlib only)."""

from voigpt.emulator.chat import reply_for
from voigpt.emulator.faults import Fault
from voigpt.emulator.records import RecordedRequest, Rejection, Totals
from voigpt.emulator.script import ReplyFunction
from voigpt.emulator.server import Emulator

__all__ = [
    "Emulator", "Fault", "RecordedRequest", "Rejection", "ReplyFunction", "Totals", "reply_for",
]
