"""voigpt.com's wire format, shared by every HTTP adapter (no I/O, no HTTP library):
``wire`` is what requests and replies look like, ``answers`` what answers mean."""

from voigpt.adapters.site.answers import (
    EXCERPT_LIMIT,
    MAX_REDIRECTS,
    credential_forms,
    excerpt,
    looks_like_challenge,
    parse_retry_after,
    raise_for_status,
    redirect_target,
    scrub,
)
from voigpt.adapters.site.causes import (
    RedactedCause,
    caused_by,
    exception_chain,
    safe_cause,
)
from voigpt.adapters.site.wire import (
    BROWSER_HEADERS,
    COMPLETION_PATH,
    PAGE_HEADERS,
    TOKEN_COOKIE,
    TOKEN_HEADER,
    TOKEN_PATH,
    Answer,
    completion_headers,
    decode_reply,
    encode_request,
    exchange_secrets,
    origin_of,
    token_from,
)

__all__ = [
    "BROWSER_HEADERS",
    "COMPLETION_PATH",
    "EXCERPT_LIMIT",
    "MAX_REDIRECTS",
    "PAGE_HEADERS",
    "TOKEN_COOKIE",
    "TOKEN_HEADER",
    "TOKEN_PATH",
    "Answer",
    "RedactedCause",
    "caused_by",
    "completion_headers",
    "credential_forms",
    "decode_reply",
    "encode_request",
    "exception_chain",
    "excerpt",
    "exchange_secrets",
    "looks_like_challenge",
    "origin_of",
    "parse_retry_after",
    "raise_for_status",
    "redirect_target",
    "safe_cause",
    "scrub",
    "token_from",
]
