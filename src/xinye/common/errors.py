"""Errors that say what was wrong and where (defined in the pure core, shared by every app)."""

from xinye.algorithms.errors import InputError, RowError, XinyeError

__all__ = ["InputError", "RowError", "XinyeError"]
