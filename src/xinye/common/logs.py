"""The log's one line format: UTC time, level, logger, the acting user where known, and a message in which
nothing a client sent can start a new line (ASVS 5.0 V16.2.2, V16.4.1). A traceback follows its line as usual.
"""

from __future__ import annotations

import logging
import time


class SafeFormatter(logging.Formatter):
    """`2026-12-03T08:09:00Z WARNING xinye.errors error 1a2b: 404 GET /x\\nFORGED`: CR, LF and other control
    characters in the message are written as escapes, so a forged path or name cannot forge a log line."""

    converter = time.gmtime

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def escape_controls(text: str) -> str:
    """Control characters (CR, LF, tab, escape...) as backslash escapes; everything else as it is."""
    if not any(ord(c) < 32 or ord(c) == 127 for c in text):
        return text
    return "".join(c.encode("unicode_escape").decode("ascii") if ord(c) < 32 or ord(c) == 127 else c for c in text)
