"""Submit a form once, however often it is sent (issue 10, item 6).

A form carries a random key (`new_key()`, a hidden field); `once()` stores the key's hash before it makes
anything, in the same transaction. A unique constraint makes a second submission with the key (a double tap,
a retry, twenty at once) wait for the first and then get the first one's object instead of making another.
Models with their own key column (demands.Demand.idempotency_key) do the same in their service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyKey

FORM_KEY = re.compile(r"[0-9a-f]{32}")
KEEP = dt.timedelta(days=1)


def new_key() -> str:
    return secrets.token_hex(16)


def form_key(value: str) -> str:
    """The key a form sent, or a new one when it sent none (or not one of ours)."""
    return value if FORM_KEY.fullmatch(value or "") else new_key()


def _hash(namespace: str, key: str) -> str:
    return hashlib.sha256(f"{namespace}\x00{key}".encode()).hexdigest()


def once(namespace: str, key: str, make: Callable[[], object], fetch: Callable[[str], object]):
    """`make()` once per (namespace, key); returns (object, replayed). A replay returns `fetch(object_id)` of
    the first object. Without a valid key, `make()` runs every time. `make` may raise: then nothing is kept,
    the key included, and a waiting duplicate is judged on its own."""
    if not FORM_KEY.fullmatch(key or ""):
        with transaction.atomic():
            return make(), False
    digest = _hash(namespace, key)
    with transaction.atomic():
        seen = IdempotencyKey.objects.filter(key=digest).first()
        if seen is None:
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(key=digest)
            except IntegrityError:  # sent twice at once: the first is committed by now
                seen = IdempotencyKey.objects.filter(key=digest).first()
                if seen is None:
                    raise
        if seen is not None:
            return fetch(seen.object_id), True
        made = make()
        IdempotencyKey.objects.filter(pk=row.pk).update(object_id=str(made.pk))
        IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return made, False
