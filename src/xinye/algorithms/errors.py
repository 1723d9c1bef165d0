"""Errors that say what was wrong and where. Pure Python: used by the algorithm core and by the apps."""

from __future__ import annotations

from dataclasses import dataclass, field


class XinyeError(Exception):
    """Base class for errors meant to be shown to a user as they are."""


@dataclass
class RowError:
    """One problem in an input: which file, row or record (1-based; a CSV header is row 1), column and value;
    `sheet`, the sheet of a workbook that holds the row (None: a file of one table)."""

    file: str
    row: int | str | None
    column: str | None
    value: object
    message: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", sheet {self.sheet}" if self.sheet else "")
        if self.row is not None:
            where += f", row {self.row}" if isinstance(self.row, int) else f", {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        if self.value is not None and self.value != "":
            return f"{where}: {self.message} (value {self.value!r})"
        return f"{where}: {self.message}"


@dataclass
class InputError(XinyeError):
    """Raised when an input (file, code, argument) is bad. Nothing has been written."""

    errors: list[RowError] = field(default_factory=list)
    summary: str = ""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        head = self.summary or f"{len(self.errors)} error(s) in input; nothing was written"
        lines = [head] + [f"  {e}" for e in self.errors[:50]]
        if len(self.errors) > 50:
            lines.append(f"  ... and {len(self.errors) - 50} more")
        return "\n".join(lines)
