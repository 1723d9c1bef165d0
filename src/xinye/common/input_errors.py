"""Input errors in the reader's language (issue 16: "import error summaries" and the location words of row
errors were English on Chinese pages).

The pure readers (`xinye.algorithms.tabular`, the structure and station readers) write English, for the
command line and the logs. Pages show the same errors through `localized_errors`: the summary, and for each
error where it is (file, row or record, column, value) and what is wrong, in the active language. A message
this module does not know is shown as it is (the readers' own messages are translated where they are made
when they use gettext).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinye.algorithms.errors import InputError, RowError

#: the English messages of the readers, as patterns, and their translations (the same named fields)
MESSAGES = [
    (r"cannot read: (?P<reason>.+)", gettext_lazy("cannot read the file: %(reason)s")),
    (
        r"the file is (?P<size>\S+ \S+), more than the (?P<limit>\S+ \S+) an import may hold",
        gettext_lazy("the file is %(size)s, more than the %(limit)s an import may hold"),
    ),
    (
        r"the workbook unpacks to (?P<size>\S+ \S+), more than the (?P<limit>\S+ \S+) an import may hold",
        gettext_lazy("the workbook unpacks to %(size)s, more than the %(limit)s an import may hold"),
    ),
    (r"not valid JSON: nested too deeply", gettext_lazy("not valid JSON: nested too deeply")),
    (r"not valid JSON: (?P<reason>.+)", gettext_lazy("not valid JSON: %(reason)s")),
    (
        r"more than (?P<count>[\d,]+) data rows; split the file",
        gettext_lazy("more than %(count)s data rows; split the file"),
    ),
    (r"holds a NUL character", gettext_lazy("holds a NUL character")),
    (r"not a readable CSV header: (?P<reason>.+)", gettext_lazy("not a readable CSV header: %(reason)s")),
    (r"not a readable CSV row: (?P<reason>.+)", gettext_lazy("not a readable CSV row: %(reason)s")),
    (r"not a readable \.xlsx file \((?P<reason>.+)\)", gettext_lazy("not a readable .xlsx file (%(reason)s)")),
    (r"no sheet named '(?P<sheet>.+)'", gettext_lazy("no sheet named “%(sheet)s”")),
    (
        r"header must name (?P<required>.+); missing (?P<missing>.+)",
        gettext_lazy("the header must name %(required)s; missing: %(missing)s"),
    ),
    (
        r"not UTF-8 or GB18030 \(GBK\) text; save the file as UTF-8",
        gettext_lazy("not UTF-8 or GB18030 (GBK) text; save the file as UTF-8"),
    ),
    (r"use a (?P<kinds>[.\w, ]+ or \.\w+) file", gettext_lazy("use a %(kinds)s file")),
    (r"each feature must be a Point", gettext_lazy("each feature must be a Point")),
    (r"expected \[longitude, latitude\]", gettext_lazy("expected [longitude, latitude]")),
    (r"properties must be an object", gettext_lazy("properties must be an object")),
    (r"use one of (?P<choices>.+)", gettext_lazy("use one of %(choices)s")),
    (r"not a number", gettext_lazy("not a number")),
    (r"not a date \(YYYY-MM-DD\)", gettext_lazy("not a date (YYYY-MM-DD)")),
]
_COMPILED = [(re.compile(f"^{pattern}$"), text) for pattern, text in MESSAGES]
_SUMMARY = re.compile(r"^(?P<count>\d+) error\(s\) in (?P<file>.+?); nothing was written$")
_JSON_AT = re.compile(r"^line (?P<line>\d+) column (?P<col>\d+)$")
_RECORD = re.compile(r"^(?P<key>\w+)\[(?P<index>\d+)\](?: \(id '(?P<id>.*)'\))?$")


@dataclass(frozen=True)
class ShownError:
    file: str
    where: str  # row, line or record, in the active language ("" when the whole file)
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = " ".join(p for p in (self.file, self.where, self.column) if p)
        text = _("%(where)s: %(message)s") % {"where": where, "message": self.message} if where else self.message
        return text + (" " + _("(value %(value)s)") % {"value": self.value} if self.value else "")


def localized_message(message: str) -> str:
    for pattern, text in _COMPILED:
        m = pattern.match(message or "")
        if m:
            return str(text) % m.groupdict() if m.groupdict() else str(text)
    return message


def _where(row) -> str:
    if row is None or row == "":
        return ""
    if isinstance(row, int):
        return _("row %(row)s") % {"row": row}
    text = str(row)
    m = _JSON_AT.match(text)
    if m:
        return _("line %(line)s, column %(col)s") % m.groupdict()
    m = _RECORD.match(text)
    if m:
        record = _("record %(n)s") % {"n": int(m.group("index")) + 1}
        return record + (" (" + _("id %(id)s") % {"id": m.group("id")} + ")" if m.group("id") is not None else "")
    if text.startswith("row ") and text[4:].isdigit():
        return _("row %(row)s") % {"row": text[4:]}
    return text


def shown(e: RowError) -> ShownError:
    value = "" if e.value is None or e.value == "" else str(e.value)
    column = _("column “%(column)s”") % {"column": e.column} if e.column else ""
    return ShownError(str(e.file or ""), _where(e.row), column, value, localized_message(str(e.message)))


def localized_summary(exc: InputError) -> str:
    m = _SUMMARY.match(exc.summary or "")
    if m:
        return _("%(count)s error(s) in %(file)s; nothing was written") % m.groupdict()
    if not exc.summary and len(exc.errors) == 1:
        return str(shown(exc.errors[0]))
    return exc.summary or _("%(count)s error(s); nothing was written") % {"count": len(exc.errors)}


def localized_errors(exc: InputError) -> dict:
    """{"summary": ..., "errors": [ShownError, ...]} in the active language."""
    return {"summary": localized_summary(exc), "errors": [shown(e) for e in exc.errors]}
