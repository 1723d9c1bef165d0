"""Rotating check-in codes of a shift (issue 14, item 3): a QR code and a 6-digit code, both from one time window.

Time is cut into windows of XINYE_CHECKIN_WINDOW_SECONDS (default 60 s). For shift `s` and window `w` the
server computes HMAC-SHA256 over "s:w" keyed with the site's secret (`django.utils.crypto.salted_hmac`, its own
salt); nothing is stored. The QR code carries an address with the token "w.<22 characters of the HMAC>"; the
6-digit code is the HMAC's dynamic truncation (RFC 4226, section 5.3) modulo 10^6, as TOTP does (RFC 6238).
A code is taken in its own window and, for XINYE_CHECKIN_GRACE_SECONDS after it ends (someone typing as the
code changes), not later: a photo of yesterday's code, or of the code two windows ago, is refused.

References: RFC 4226 (HOTP), RFC 6238 (TOTP).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "xinye.volunteering.checkin"
TOKEN_CHARS = 22  # 132 bits of the HMAC in the QR code's address


def window_seconds() -> int:
    return int(getattr(settings, "XINYE_CHECKIN_WINDOW_SECONDS", 60))


def grace_seconds() -> int:
    return int(getattr(settings, "XINYE_CHECKIN_GRACE_SECONDS", 10))


def window_of(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // window_seconds()


def _mac(shift_id: int, window: int) -> bytes:
    return salted_hmac(SALT, f"{shift_id}:{window}", algorithm="sha256").digest()


def digits_for(shift_id: int, window: int) -> str:
    """The 6-digit code of a shift in a window (RFC 4226 dynamic truncation)."""
    mac = _mac(shift_id, window)
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def token_for(shift_id: int, window: int) -> str:
    """The token the QR code's address carries: the window and a part of the HMAC."""
    mac = base64.urlsafe_b64encode(_mac(shift_id, window)).decode().rstrip("=")
    return f"{window}.{mac[:TOKEN_CHARS]}"


@dataclass(frozen=True)
class Code:
    window: int
    digits: str
    token: str
    #: when this window ends (the page reloads then)
    ends_at: dt.datetime
    seconds_left: int


def current(shift_id: int, now: dt.datetime) -> Code:
    w = window_of(now)
    ends = dt.datetime.fromtimestamp((w + 1) * window_seconds(), tz=dt.UTC)
    left = max(1, int((ends - now).total_seconds() + 0.999))
    return Code(window=w, digits=digits_for(shift_id, w), token=token_for(shift_id, w), ends_at=ends, seconds_left=left)


def accepted_windows(now: dt.datetime) -> set[int]:
    """The window of `now`, and the previous one during the grace period at the start of a window."""
    return {window_of(now), window_of(now - dt.timedelta(seconds=grace_seconds()))}


def digits_valid(shift_id: int, typed: str, now: dt.datetime) -> bool:
    typed = "".join(ch for ch in (typed or "") if ch in "0123456789")
    if len(typed) != 6:
        return False
    return any(hmac.compare_digest(typed, digits_for(shift_id, w)) for w in accepted_windows(now))


def token_valid(shift_id: int, token: str, now: dt.datetime) -> bool:
    window, _sep, _mac_part = (token or "").partition(".")
    if not (window.isascii() and window.isdigit()) or len(token) > 40:
        return False
    w = int(window)
    return w in accepted_windows(now) and hmac.compare_digest(token, token_for(shift_id, w))
