"""`xinye organizations import FILE [--dry-run] [--as USER]` and `xinye organizations template -o FILE`."""

from ._roster import RosterCommand


class Command(RosterCommand):
    help = "Import organizations from a spreadsheet (all or nothing, with a dry run), or write its template."
    kind = "organizations"
