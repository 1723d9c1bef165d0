"""`xinye companies import FILE [--dry-run] [--as USER]` and `xinye companies template -o FILE`."""

from ._roster import RosterCommand


class Command(RosterCommand):
    help = "Import companies from a spreadsheet (all or nothing, with a dry run), or write its template."
    kind = "companies"
