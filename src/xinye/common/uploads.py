"""Uploaded files as paths on disk for the readers in algorithms/ (which take paths)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def uploaded_path(upload) -> Iterator[Path]:
    """The upload written to a temporary file that keeps its suffix (readers choose the format by it);
    removed on exit."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"upload{Path(upload.name).suffix.lower()}"
        with open(path, "wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        yield path
