"""Reading CSV and .xlsx files for the algorithms' command-line tools, with errors that name the file and row."""

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
            _check_header(path, header, required, ",".join(reader.fieldnames or []))
            reader.fieldnames = header
            return [(i, {k: (v or "").strip() for k, v in r.items() if k}) for i, r in enumerate(reader, start=2)]
    except OSError as exc:
        raise InputError([RowError(str(path), None, None, None, f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise InputError([RowError(str(path), None, None, None, "not UTF-8 text; save the CSV as UTF-8")]) from exc


def _check_header(path, header: list[str], required: Sequence[str], raw: str) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        message = f"header must name {', '.join(required)}; missing {', '.join(missing)}"
        raise InputError([RowError(str(path), 1, None, raw, message)])


def read_xlsx_rows(path, sheet: str | None = None, required: Sequence[str] = ()) -> list[tuple[int, dict]]:
    """(row number, {column: text}) for each non-empty data row of a sheet (the first when `sheet` is None);
    the header is row 1 and its names are lower-cased. Raises InputError naming the file."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a damaged or foreign file
        raise InputError([RowError(str(path), None, None, None, f"not a readable .xlsx file ({exc})")]) from exc
    if sheet is not None and sheet not in wb.sheetnames:
        raise InputError([RowError(str(path), None, None, sheet, f"no sheet named {sheet!r}")])
    rows = (wb[sheet] if sheet is not None else wb.worksheets[0]).iter_rows(values_only=True)
    header = [str(h).strip().lower() if h is not None else "" for h in next(rows, [])]
    _check_header(path, header, required, ",".join(header))
    out = []
    for i, r in enumerate(rows, start=2):
        if r is None or all(v is None or str(v).strip() == "" for v in r):
            continue
        out.append((i, {h: ("" if v is None else _cell_text(v)) for h, v in zip(header, r, strict=False) if h}))
    return out


def _cell_text(v) -> str:
    """A cell as text: whole floats without '.0', dates as ISO dates."""
    import datetime

    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime.datetime):
        return v.date().isoformat() if v.time() == datetime.time() else v.isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v).strip()
