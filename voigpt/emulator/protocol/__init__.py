"""The voigpt.com chat protocol as pure functions: request validation and the emulator's reply."""

from voigpt.emulator.protocol.messages import BadRequestBody, parse_request_body
from voigpt.emulator.protocol.reply import MessageLike, reply_for

__all__ = ["BadRequestBody", "MessageLike", "parse_request_body", "reply_for"]
