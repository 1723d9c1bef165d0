"""Helpers for management commands: turn Xinye's input errors into a clean message and exit code."""

from __future__ import annotations

from django.core.management.base import CommandError

from .errors import XinyeError


def run_or_fail(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except XinyeError as exc:
        raise CommandError(str(exc)) from exc
