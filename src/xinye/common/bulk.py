"""Plain multi-row INSERTs for the large imports, where the ORM's per-value preparation dominates.

`bulk_create` prepares every value of every row through its field (about 10 µs a value); a roster of
100,000 people writes half a million rows. For rows whose values are already plain (ids, short texts, one
timestamp for the whole import), `insert_rows` hands them to the driver's `executemany` in one statement per
batch. Only for tables without history and without signals; the caller passes every NOT NULL column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice

from django.db import connections, router


def insert_rows(model, columns: Sequence[str], rows: Iterable[Sequence], *, batch: int = 5000) -> int:
    """INSERT `rows` (tuples in the order of `columns`, database column names) into `model`'s table; returns
    how many. Datetimes are adapted for the backend (naive UTC text on SQLite, aware on PostgreSQL)."""
    connection = connections[router.db_for_write(model)]
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(c) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    total = 0
    it = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(it, batch)):
            cursor.executemany(
                sql,
                [tuple(ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in r) for r in chunk],
            )
            total += len(chunk)
    return total


def insert_history(objs: Sequence, *, user=None, reason: str = "", when: datetime | None = None) -> int:
    """The "created" history rows of `objs` (saved already, with their primary keys), as django-simple-history
    writes them one by one, in plain multi-row INSERTs. For large imports only; the rows read back the same."""
    from django.utils import timezone

    if not objs:
        return 0
    model = type(objs[0])
    history = model.history.model
    when = when or timezone.now()
    own = {f.attname for f in model._meta.concrete_fields}
    extra = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": getattr(user, "pk", None),
    }
    columns = [f.attname for f in history._meta.concrete_fields if f.attname != "history_id"]
    picks = [(c, c in own) for c in columns]
    return insert_rows(
        history,
        [history._meta.get_field(c).column for c in columns],
        (tuple(getattr(o, c) if mine else extra[c] for c, mine in picks) for o in objs),
    )
