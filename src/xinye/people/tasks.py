"""Background jobs of the people app. Importing this module registers them."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from xinye.algorithms.errors import InputError
from xinye.common.jobs import job
from xinye.common.models import Job


@job("people_import", timeout=20 * 60)
def people_import(
    j,
    *,
    report,
    path: str,
    filename: str,
    dry_run: bool = True,
    language: str = "zh-hans",
    kind: str = "people",
    **_stored,
):
    """Import a roster (or check it, `dry_run`); the counts, or every row error, are kept in the job's
    parameters under "result" for the result page, in the language of the page that started it."""
    from xinye.accounts.scope import scope_for

    from . import roster

    user = get_user_model().objects.get(pk=j.created_by_id)
    with translation.override(language):
        try:
            if kind == "people":
                run = roster.roster_import
            else:  # companies, organizations, posts
                from xinye.organizations.rosters import IMPORTERS

                run = IMPORTERS[kind]
            result = run(
                Path(path), scope=scope_for(user), user=user, dry_run=dry_run, filename=filename, progress=report
            )
            outcome = {"ok": True, **result.to_json()}
        except InputError as exc:
            outcome = {
                "ok": False,
                "dry_run": dry_run,
                "summary": exc.summary,
                "errors": [
                    {"file": e.file, "sheet": e.sheet, "row": e.row, "column": e.column,
                     "value": "" if e.value is None else str(e.value), "message": e.message}
                    for e in exc.errors[:1000]
                ],
                "more": max(0, len(exc.errors) - 1000),
            }  # fmt: skip
    if not dry_run or not outcome["ok"]:
        Path(path).unlink(missing_ok=True)  # the upload is kept only between the check and the import
    Job.objects.filter(pk=j.pk).update(params={**j.params, "result": outcome})
    return reverse("roster_result", args=[j.pk])
