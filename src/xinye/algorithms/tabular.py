"""Reading CSV, .xlsx and JSON files for imports and the algorithms' command-line tools, with errors that name the
file, row, column and value.

Every reader is capped (`LIMITS`: rows and uncompressed bytes; the Django project sets them from
XINYE_IMPORT_MAX_ROWS and XINYE_IMPORT_MAX_BYTES) and refuses a file over a cap before parsing it: a CSV by
its size on disk, an .xlsx by the uncompressed sizes its zip directory declares (a zip member cannot inflate
past its declared size) and by a scan of its sheets' row tags. Text is UTF-8 (with or without a byte-order
mark) or GB18030 (a superset of GBK, what Excel on Chinese Windows saves); NUL characters are refused.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from .errors import InputError, RowError


@dataclass
class Limits:
    max_rows: int = 100_000
    max_bytes: int = 50 * 1024 * 1024


#: the caps every reader applies; change with `configure`
LIMITS = Limits()


def configure(*, max_rows: int | None = None, max_bytes: int | None = None) -> None:
    if max_rows is not None:
        LIMITS.max_rows = int(max_rows)
    if max_bytes is not None:
        LIMITS.max_bytes = int(max_bytes)


def _fail(path, message: str, row=None, column=None, value=None) -> InputError:
    return InputError([RowError(str(path), row, column, value, message)])


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _check_size(path) -> None:
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror}") from exc
    if size > LIMITS.max_bytes:
        raise _fail(path, f"the file is {_mb(size)}, more than the {_mb(LIMITS.max_bytes)} an import may hold")


def read_text(path) -> str:
    """The file's text: UTF-8 (a byte-order mark is dropped), else GB18030/GBK. Raises InputError naming the
    file, the line and the bytes when it is neither."""
    return _decode(path, _read_bytes(path))


def _read_bytes(path) -> bytes:
    _check_size(path)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror}") from exc


def _decode(path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as first:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            line = raw.count(b"\n", 0, first.start) + 1
            bad = raw[first.start : first.start + 4]
            raise _fail(
                path, "not UTF-8 or GB18030 (GBK) text; save the file as UTF-8", row=line, value=bad.hex(" ")
            ) from first


#: every digit byte as "0", every other byte as " ": nineteen zeros in a row mark a number that may not fit in
#: 64 bits, which orjson would read as a float where json reads an integer
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))


def read_json(path):
    """A JSON file's data (UTF-8, or GB18030), capped like every import; errors name the line and column.

    orjson parses it (a 77 MB business file in one second rather than several) unless the file holds a run of
    19 digits or more (an integer over 64 bits, which orjson would make a float); whatever orjson refuses (NaN,
    Infinity, lone surrogates, malformed text) goes to the standard library's parser too, which either reads it
    as before or names the line and column of the error."""
    raw = _read_bytes(path)
    text = _decode(path, raw)
    if raw.translate(_DIGITS).find(b"0" * 19) < 0:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    del raw
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON: {exc.msg}", row=f"line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise _fail(path, "not valid JSON: nested too deeply") from exc


def _check_rows(path, count: int) -> None:
    if count > LIMITS.max_rows:
        raise _fail(path, f"more than {LIMITS.max_rows:,} data rows; split the file")


def _nul_errors(path, row: int, rec: dict) -> list[RowError]:
    return [
        RowError(str(path), row, k, v.replace("\x00", "\\0")[:40], "holds a NUL character")
        for k, v in rec.items()
        if "\x00" in v
    ]


def read_csv_rows(path, required: Sequence[str] = ()) -> list[tuple[int, dict]]:
    """(row number, {column: stripped text}) for each data row; the header is row 1 and its names are
    lower-cased. Raises InputError when the file cannot be read or decoded, is over a cap, lacks a required
    column, or has a field over csv's field limit or holding a NUL character."""
    text = read_text(path)
    if text.count("\n") > LIMITS.max_rows + 1:  # perhaps over the cap (a quoted field may hold line breaks)
        try:
            rows = sum(1 for _ in itertools.islice(csv.reader(io.StringIO(text, newline="")), LIMITS.max_rows + 2))
        except csv.Error:
            rows = 0  # the parse below names the row
        _check_rows(path, rows - 1)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise _fail(path, f"not a readable CSV header: {exc}", row=1) from exc
    header = [h.strip().lower() for h in fieldnames]
    _check_header(path, header, required, ",".join(fieldnames))
    reader.fieldnames = header
    out: list[tuple[int, dict]] = []
    errors: list[RowError] = []
    i = 1
    while True:
        try:
            r = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # e.g. "field larger than field limit (131072)": the row that holds it
            raise _fail(path, f"not a readable CSV row: {exc}", row=i + 1) from exc
        i += 1
        _check_rows(path, len(out) + 1)
        rec = {k: csv_value_read((v if isinstance(v, str) else "").strip()) for k, v in r.items() if k}
        errors += _nul_errors(path, i, rec)
        out.append((i, rec))
    if errors:
        raise InputError(errors)
    return out


def _check_header(path, header: list[str], required: Sequence[str], raw: str) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        message = f"header must name {', '.join(required)}; missing {', '.join(missing)}"
        raise InputError([RowError(str(path), 1, None, raw, message)])


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


def check_xlsx(path) -> None:
    """Refuse an .xlsx over the caps before openpyxl parses it: the uncompressed sizes its zip directory
    declares (zipfile never inflates a member past its declared size, so a zip bomb is caught here), and the
    row tags of every sheet (counted in a streaming scan, without building cells)."""
    _check_size(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > LIMITS.max_bytes:
                raise _fail(
                    path,
                    f"the workbook unpacks to {_mb(total)}, more than the {_mb(LIMITS.max_bytes)} an import may hold",
                )
            for info in infos:
                if not info.filename.startswith("xl/worksheets/") or not info.filename.endswith(".xml"):
                    continue
                rows, tail = 0, b""
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        buf = tail + chunk
                        # a tag starting in the last 16 bytes may be cut: it is counted with the next chunk
                        cut = len(buf) - 16
                        rows += sum(1 for m in _ROW_TAG.finditer(buf) if m.start() < cut)
                        tail = buf[max(cut, 0) :]
                        if rows - 1 > LIMITS.max_rows:  # the header is a row
                            _check_rows(path, rows - 1)
                    rows += len(_ROW_TAG.findall(tail))
                _check_rows(path, rows - 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, zlib.error, EOFError) as exc:
        raise _fail(path, f"not a readable .xlsx file ({exc})") from exc
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror}") from exc


def open_workbook(path):
    """An openpyxl read-only workbook, after `check_xlsx`; InputError naming the file when it is not one."""
    from openpyxl import load_workbook

    check_xlsx(path)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a damaged or foreign file
        raise _fail(path, f"not a readable .xlsx file ({exc})") from exc


def read_xlsx_rows(path, sheet: str | None = None, required: Sequence[str] = (), *, wb=None) -> list[tuple[int, dict]]:
    """(row number, {column: text}) for each non-empty data row of a sheet (the first when `sheet` is None);
    the header is row 1 and its names are lower-cased. Raises InputError naming the file (and the row, column
    and value of a cell holding a NUL character)."""
    wb = wb or open_workbook(path)
    if sheet is not None and sheet not in wb.sheetnames:
        raise InputError([RowError(str(path), None, None, sheet, f"no sheet named {sheet!r}")])
    ws = wb[sheet] if sheet is not None else wb.worksheets[0]
    try:
        declared = ws.max_row  # from the sheet's <dimension>, when it has one
    except Exception:  # a damaged dimension: the scan in check_xlsx and the count below still hold
        declared = None
    if isinstance(declared, int):
        _check_rows(path, declared - 1)
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip().lower() if h is not None else "" for h in next(rows, [])]
    _check_header(path, header, required, ",".join(header))
    out = []
    errors: list[RowError] = []
    for i, r in enumerate(rows, start=2):
        _check_rows(path, i - 1)
        if r is None or all(v is None or str(v).strip() == "" for v in r):
            continue
        rec = {h: ("" if v is None else csv_value_read(_cell_text(v))) for h, v in zip(header, r, strict=False) if h}
        errors += _nul_errors(path, i, rec)
        out.append((i, rec))
    if errors:
        raise InputError(errors)
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


class InertSheet:
    """A worksheet of a `ChartWorkbook` that writes each value by its type: text always as text (never a
    formula, never a link), and text a spreadsheet could read as a formula with the quote prefix, as
    `xlsx_make_inert` does for openpyxl. `sheet` is XlsxWriter's own worksheet (charts, widths, panes)."""

    def __init__(self, book: ChartWorkbook, sheet):
        self.book, self.sheet = book, sheet

    def write(self, row: int, col: int, value, fmt=None) -> None:
        if value is None or value == "":
            self.sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            self.sheet.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float):
            self.sheet.write_number(row, col, value, fmt)
        else:
            text = str(value)
            self.sheet.write_string(row, col, text, self.book.quoted(fmt) if _needs_quote(text) else fmt)

    def write_row(self, row: int, col: int, values: Sequence, fmt=None) -> None:
        for i, value in enumerate(values):
            self.write(row, col + i, value, fmt)


class ChartWorkbook:
    """An .xlsx with native charts (XlsxWriter: openpyxl reads charts poorly and writes them no better), written
    to `target` (a path or a binary file object). Its cells go through `InertSheet`, and XlsxWriter's own
    guesses (text to formula, to link, to number) are off. The only XlsxWriter workbook Xinye makes."""

    def __init__(self, target):
        import xlsxwriter  # type: ignore[import-untyped]

        self.wb = xlsxwriter.Workbook(
            target,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        self._props: dict[int, dict] = {}
        self._quoted: dict[int | None, object] = {}

    def add_format(self, props: dict | None = None):
        fmt = self.wb.add_format(dict(props or {}))
        self._props[id(fmt)] = dict(props or {})
        return fmt

    def quoted(self, fmt=None):
        """`fmt` with the quote prefix (made once per format)."""
        key = None if fmt is None else id(fmt)
        if key not in self._quoted:
            props = {} if key is None else self._props.get(key, {})
            self._quoted[key] = self.wb.add_format({**props, "quote_prefix": True})
        return self._quoted[key]

    def add_sheet(self, name: str) -> InertSheet:
        return InertSheet(self, self.wb.add_worksheet(name))

    def add_chart(self, options: dict):
        return self.wb.add_chart(options)

    def close(self) -> None:
        self.wb.close()
