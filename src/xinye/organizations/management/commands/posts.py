"""`xinye posts import FILE [--dry-run] [--as USER]` and `xinye posts template -o FILE`."""

from ._roster import RosterCommand


class Command(RosterCommand):
    help = "Import posts from a spreadsheet (all or nothing, with a dry run), or write its template."
    kind = "posts"
