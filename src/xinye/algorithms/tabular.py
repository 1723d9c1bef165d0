"""Reading CSV and .xlsx files for the algorithms' command-line tools, with errors that name the file and row."""

from __future__ import annotations

import csv
import re
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
            return [
                (i, {k: csv_value_read((v or "").strip()) for k, v in r.items() if k})
                for i, r in enumerate(reader, start=2)
            ]
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
        out.append(
            (i, {h: ("" if v is None else csv_value_read(_cell_text(v))) for h, v in zip(header, r, strict=False) if h})
        )
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


# ---------------------------------------------------------------- writing: every cell inert (issue 10)
#
# A spreadsheet program runs a cell that starts with one of these as a formula (OWASP "CSV injection"):
# `=HYPERLINK(...)` in a station's name would become a live link, `@SUM(...)` or `+cmd|...` worse. Every
# CSV and .xlsx file Xinye writes goes through `csv_writer`/`csv_dict_writer` or `new_workbook`, and every
# CSV/.xlsx it reads goes through `csv_value_read`, so an exported file imports back unchanged.

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _needs_quote(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula (a plain number such as -2.5 is only a number),
    or `text` is itself a quoted value (so quoting stays reversible)."""
    if not text:
        return False
    if text[0] == "'":
        return _needs_quote(text[1:])
    return text[0] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(text)


def inert_csv_value(value):
    """A CSV field that no spreadsheet runs: text that could start a formula gets a leading `'`.
    Numbers (and text that is just a number, like "-2.5") are left as they are."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def csv_value_read(text: str) -> str:
    """The inverse of `inert_csv_value` for a field read back from a file: `'=x` is `=x` again."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text


class _InertWriter:
    def __init__(self, writer):
        self._w = writer

    def writerow(self, row):
        if isinstance(row, dict):
            return self._w.writerow({k: inert_csv_value(v) for k, v in row.items()})
        return self._w.writerow([inert_csv_value(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)

    def writeheader(self):
        return self._w.writeheader()


def csv_writer(fh, **kwargs) -> _InertWriter:
    """`csv.writer` whose every field is inert (see `inert_csv_value`)."""
    return _InertWriter(csv.writer(fh, **kwargs))


def csv_dict_writer(fh, fieldnames, **kwargs) -> _InertWriter:
    """`csv.DictWriter` whose every field is inert (see `inert_csv_value`)."""
    return _InertWriter(csv.DictWriter(fh, fieldnames=fieldnames, **kwargs))


def _inert_cell(cell) -> None:
    value = cell.value
    if isinstance(value, str) and value and (cell.data_type == "f" or _needs_quote(value)):
        cell.data_type = "s"
        cell.quotePrefix = True


def new_workbook():
    """An openpyxl workbook whose `save` first makes every cell inert (see `xlsx_make_inert`). Every .xlsx
    Xinye writes starts here (a test fails on any other `Workbook()` in the code)."""
    from openpyxl import Workbook

    class InertWorkbook(Workbook):
        def save(self, filename):
            xlsx_make_inert(self)
            super().save(filename)

    return InertWorkbook()


def xlsx_make_inert(wb) -> None:
    """Store every text cell as text, never as a formula.

    openpyxl turns a string starting with "=" into a formula; here it stays a string cell, and any text a
    spreadsheet could read as a formula is marked `quotePrefix` so that editing the cell keeps it text.
    The value itself is unchanged (an exported file imports back as it was); numbers stay numbers."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                _inert_cell(cell)
