"""Reading CSV files for the algorithms' command-line tools, with errors that name the file and row."""

from __future__ import annotations

import csv
from collections.abc import Sequence

from .errors import InputError, RowError


def read_csv_rows(path, required: Sequence[str] = ()) -> list[tuple[int, dict]]:
    """(row number, {column: stripped text}) for each data row; the header is row 1 and its names are
    lower-cased. Raises InputError when the file cannot be read, is not UTF-8, or lacks a required column."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise InputError(
                    [
                        RowError(
                            str(path),
                            1,
                            None,
                            ",".join(reader.fieldnames or []),
                            f"header must name {', '.join(required)}; missing {', '.join(missing)}",
                        )
                    ]
                )
            reader.fieldnames = header
            return [(i, {k: (v or "").strip() for k, v in r.items() if k}) for i, r in enumerate(reader, start=2)]
    except OSError as exc:
        raise InputError([RowError(str(path), None, None, None, f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise InputError([RowError(str(path), None, None, None, "not UTF-8 text; save the CSV as UTF-8")]) from exc
