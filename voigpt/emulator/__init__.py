"""A local, faithful emulator of voigpt.com for tests and demos (stdlib only).

    from voigpt.emulator import Emulator, Fault, reply_for

    with Emulator() as emu:
        ...  # talk to emu.url; emu.inject(Fault.RATE_LIMITED); assert emu.completions == 1
"""

from voigpt.emulator.faults import Fault
from voigpt.emulator.protocol import reply_for
from voigpt.emulator.records import RecordedRequest, Rejection, Totals
from voigpt.emulator.server import Emulator

__all__ = ["Emulator", "Fault", "RecordedRequest", "Rejection", "Totals", "reply_for"]
