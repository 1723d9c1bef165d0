"""The volunteer's points code (issue 14, item 4): shown on "my points" as a QR code and as a short code to type,
read at a station by its operator to redeem points.

Like the check-in code (`codes.py`), nothing is stored: time is cut into windows of `WINDOW_SECONDS`, and for a
person `p` and window `w` the server computes HMAC-SHA256 over "p:w" keyed with the site's secret (its own
salt). The QR code carries the token "p.w.<22 characters of the HMAC>", signed and short-lived; the short code
is "p-dddddd", the person's number and the HMAC's dynamic truncation to 6 digits (RFC 4226, 5.3). A code is
taken in its own window and the next one (so it lives from 2 to 4 minutes), never later: a photo of
yesterday's code spends nothing. A code redeems once (the ledger keeps its window, unique per person), so a
form sent twice, or a code read over someone's shoulder and used after them, is refused.

References: RFC 4226 (HOTP), RFC 6238 (TOTP).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

SALT = "xinye.volunteering.points"
#: a code changes this often (seconds); the previous window's code is still taken
WINDOW_SECONDS = 120
TOKEN_CHARS = 22


def window_of(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // WINDOW_SECONDS


def _mac(person_id: int, window: int) -> bytes:
    return salted_hmac(SALT, f"{person_id}:{window}", algorithm="sha256").digest()


def digits_for(person_id: int, window: int) -> str:
    mac = _mac(person_id, window)
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def token_for(person_id: int, window: int) -> str:
    mac = base64.urlsafe_b64encode(_mac(person_id, window)).decode().rstrip("=")
    return f"{person_id}.{window}.{mac[:TOKEN_CHARS]}"


def short_code_for(person_id: int, window: int) -> str:
    return f"{person_id}-{digits_for(person_id, window)}"


@dataclass(frozen=True)
class Pass:
    person_id: int
    window: int
    token: str
    short_code: str
    seconds_left: int


def current(person_id: int, now: dt.datetime) -> Pass:
    w = window_of(now)
    ends = (w + 1) * WINDOW_SECONDS
    left = max(1, int(ends - now.timestamp() + 0.999))
    return Pass(person_id, w, token_for(person_id, w), short_code_for(person_id, w), left)


def _accepted(window: int, now: dt.datetime) -> bool:
    return window in (window_of(now), window_of(now) - 1)


def read(code: str, now: dt.datetime) -> tuple[int, int] | None:
    """(person id, window) of a valid code, the QR code's token or the typed short code; None when it is not
    one, is of another window, or is too old."""
    code = (code or "").strip()
    if not code or len(code) > 60:
        return None
    if "." in code:  # the QR code's token
        person, _sep, rest = code.partition(".")
        window, _sep, _mac_part = rest.partition(".")
        if not (person.isascii() and person.isdigit() and window.isascii() and window.isdigit()):
            return None
        p, w = int(person), int(window)
        if _accepted(w, now) and hmac.compare_digest(code, token_for(p, w)):
            return p, w
        return None
    digits = "".join(ch for ch in code if ch.isascii() and ch.isdigit())
    if len(digits) < 7:  # a person's number and 6 digits
        return None
    p, typed = int(digits[:-6]), digits[-6:]
    for w in (window_of(now), window_of(now) - 1):
        if hmac.compare_digest(typed, digits_for(p, w)):
            return p, w
    return None
