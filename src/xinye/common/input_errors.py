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
    # the business architecture (algorithms.structure_io, structure.model, organizations.planning)
    (r"\w+ is required", gettext_lazy("required: the cell is empty")),
    (r"longer than (?P<limit>\d+) characters", gettext_lazy("longer than %(limit)s characters")),
    (r"not a whole number", gettext_lazy("not a whole number")),
    (r"expected a list under '(?P<key>\w+)'", gettext_lazy("expected a list under “%(key)s”")),
    (r"expected an object", gettext_lazy("expected an object")),
    (r"a unit needs an id", gettext_lazy("a unit needs an id")),
    (r"duplicate unit id", gettext_lazy("the same unit id again")),
    (r"status must be one of \(.*\)", gettext_lazy("the status is active, dissolved or merged")),
    (r"parent unit does not exist", gettext_lazy("no unit has this id (the parent)")),
    (r"unit does not exist", gettext_lazy("no unit has this id")),
    (r"the parent links form a cycle \((?P<ids>.+)\)", gettext_lazy("the parent links form a circle (%(ids)s)")),
    (r"the parent links form a cycle", gettext_lazy("the parent links form a circle")),
    (r"a member needs an id", gettext_lazy("a member needs an id")),
    (r"duplicate member id", gettext_lazy("the same member id again")),
    (r"member in an unknown unit", gettext_lazy("the member's unit is not in the units sheet")),
    (r"status must be formal or probationary", gettext_lazy("the status is formal or probationary")),
    (
        r"not a person of this company that you may see; an import only moves people already in your scope "
        r"\(member ids are the person ids of the downloaded file\)",
        gettext_lazy(
            "not a person of this company that you may see; an import only moves people already in your scope "
            "(member ids are the person ids of the downloaded file)"
        ),
    ),
    (
        r"another business version of (?P<company>.+) was imported while this file was being read "
        r"\(version (?P<old>\d+) became (?P<new>\d+)\); import the file again",
        gettext_lazy(
            "another business version of %(company)s was imported while this file was being read (version "
            "%(old)s became %(new)s); import the file again"
        ),
    ),
    # candidate sites (algorithms.placement, stations.planning)
    (r"duplicate id \(first on row (?P<row>\d+)\)", gettext_lazy("the same id again (first on row %(row)s)")),
    (r"latitude must be within -90\.\.90", gettext_lazy("a latitude is between -90 and 90")),
    (r"longitude must be within -180\.\.180", gettext_lazy("a longitude is between -180 and 180")),
    (r"weight must be a number >= 0", gettext_lazy("a weight is a number of 0 or more")),
    (
        r"unknown coordinate system; use (?P<choices>.+)",
        gettext_lazy("unknown coordinate system; use %(choices)s"),
    ),
    (r"at most (?P<count>\d+) candidate sites", gettext_lazy("at most %(count)s candidate sites")),
]
_COMPILED = [(re.compile(f"^{pattern}$"), text) for pattern, text in MESSAGES]
_SUMMARY = re.compile(r"^(?P<count>\d+) error\(s\) in (?P<file>.+?); nothing was written$")
_SUMMARIES = [
    (
        re.compile(r"^(?P<count>\d+) member id\(s\) refused; nothing was written$"),
        gettext_lazy("%(count)s member id(s) refused; nothing was written"),
    ),
    (
        re.compile(r"^(?P<count>\d+) unknown unit kind\(s\); nothing was written$"),
        gettext_lazy("%(count)s unknown unit kind(s); nothing was written"),
    ),
]
#: "unit 'a'", "member '17'", "organization 'b1'": a record named by its id
_NAMED = re.compile(r"^(?P<what>unit|member|organization) (?P<quote>['\"])(?P<id>.*)(?P=quote)$")
#: where older results (and the readers before `RowError.sheet`) put the sheet: "name.xlsx, sheet 企业"
_FILE_SHEET = re.compile(r"^(?P<file>.+), sheet (?P<sheet>.+)$")
_JSON_AT = re.compile(r"^line (?P<line>\d+) column (?P<col>\d+)$")
_RECORD = re.compile(r"^(?P<key>\w+)\[(?P<index>\d+)\](?: \(id '(?P<id>.*)'\))?$")


@dataclass(frozen=True)
class ShownError:
    file: str
    where: str  # row, line or record, in the active language ("" when the whole file)
    column: str
    value: str
    message: str
    sheet: str = ""  # the workbook's sheet, in the active language ("" for a file of one table)

    def __str__(self) -> str:
        where = " ".join(p for p in (self.file, self.sheet, self.where, self.column) if p)
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
        if m.group("id") is None:
            return record
        return _("%(record)s (id %(id)s)") % {"record": record, "id": m.group("id")}
    if text.startswith("row ") and text[4:].isdigit():
        return _("row %(row)s") % {"row": text[4:]}
    m = _NAMED.match(text)
    if m:
        template = {"unit": _("unit %(id)s"), "member": _("member %(id)s"), "organization": _("organization %(id)s")}
        return template[m.group("what")] % {"id": m.group("id")}
    return text


def _file_name(file: str, names: dict[str, str]) -> str:
    """The file as the reader knows it: an upload's own name for the temporary path it was read from."""
    for path, name in names.items():
        if path and path in file:
            file = file.replace(path, name)
    return file


def shown(e: RowError, names: dict[str, str] | None = None) -> ShownError:
    value = "" if e.value is None or e.value == "" else str(e.value)
    column = _("column “%(column)s”") % {"column": e.column} if e.column else ""
    file, sheet = _file_name(str(e.file or ""), names or {}), e.sheet or ""
    m = _FILE_SHEET.match(file)
    if not sheet and m:
        file, sheet = m.group("file"), m.group("sheet")
    sheet = _("sheet “%(sheet)s”") % {"sheet": sheet} if sheet else ""
    return ShownError(file, _where(e.row), column, value, localized_message(str(e.message)), sheet)


def localized_summary(exc: InputError, names: dict[str, str] | None = None) -> str:
    summary = _file_name(exc.summary or "", names or {})
    m = _SUMMARY.match(summary)
    if m:
        return _("%(count)s error(s) in %(file)s; nothing was written") % m.groupdict()
    for pattern, text in _SUMMARIES:
        m = pattern.match(summary)
        if m:
            return str(text) % m.groupdict()
    if not summary and len(exc.errors) == 1:
        return str(shown(exc.errors[0], names))
    return summary or _("%(count)s error(s); nothing was written") % {"count": len(exc.errors)}


def localized_errors(exc: InputError, names: dict[str, str] | None = None) -> dict:
    """{"summary": ..., "errors": [ShownError, ...]} in the active language. `names`: {temporary path: the
    upload's own name}, so that a page names the file its reader chose, not where the server put it."""
    return {"summary": localized_summary(exc, names), "errors": [shown(e, names) for e in exc.errors]}
