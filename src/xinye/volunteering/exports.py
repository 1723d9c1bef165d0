"""Approved service hours as .xlsx and CSV, in a layout to load into the national volunteer information system
(issue 14, item 5). The columns are documented in docs/volunteering.md; their headers are the system's Chinese
words in every language of the interface (a file for a Chinese system, not a page).

Every cell goes through the project's inert writers (`xinye.algorithms.tabular`): a name or a title that starts
like a formula stays text. The volunteer's identifier is what `accounts.policy.hours_export_identity` allows.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import timezone

from xinye.accounts import policy
from xinye.accounts.scope import Scope
from xinye.algorithms.tabular import csv_writer, new_workbook

from .hours import recording_organization
from .models import HoursRecord

#: (key, header) of each column, in order
COLUMNS = [
    ("name", "姓名"),
    ("id_type", "证件类型"),
    ("id_number", "证件号码"),
    ("date", "服务日期"),
    ("start", "开始时间"),
    ("end", "结束时间"),
    ("hours", "服务时长（小时）"),
    ("activity", "活动名称"),
    ("organization", "记录组织"),
]
SHEET = "志愿服务时长"


def rows(scope: Scope, records: Iterable[HoursRecord]) -> list[dict]:
    """One row per approved hours record (the caller filters), in local time. The end carries its date when
    the service ended on a later day (a shift past midnight)."""
    out = []
    for r in records:
        start, end = timezone.localtime(r.starts_at), timezone.localtime(r.ends_at)
        id_type, id_number = policy.hours_export_identity(scope, r.person)
        out.append(
            {
                "name": r.person.name,
                "id_type": id_type,
                "id_number": id_number,
                "date": start.date().isoformat(),
                "start": f"{start:%H:%M}",
                "end": f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}",
                "hours": round(r.minutes / 60, 2),
                "activity": r.activity.title,
                "organization": recording_organization(r.activity),
            }
        )
    return out


def to_csv(data: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark (spreadsheet programs then read the Chinese right), CRLF lines."""
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow([header for _key, header in COLUMNS])
    for row in data:
        w.writerow([row[key] for key, _header in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(data: list[dict]) -> bytes:
    wb = new_workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([header for _key, header in COLUMNS])
    for row in data:
        ws.append([row[key] for key, _header in COLUMNS])
    for col, width in zip("ABCDEFGHI", (10, 10, 16, 12, 10, 10, 10, 30, 30), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
