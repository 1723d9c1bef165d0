"""Background jobs: a row in the database, run in a thread of the web process (or inline in tests and
commands), reporting progress that pages poll. A failed job records its error and leaves the data as it
was, because each job's work is one transaction in its service. Errors meant for users (XinyeError: row
errors and the like) are shown as they are; anything else only as an error id, its traceback in the log.

Job functions are registered by name: ``@job("structure_plan") def run(job, **params) -> str`` returns the
URL of the result page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from xinye.algorithms.errors import XinyeError

from .failures import new_error_id
from .models import Job

log = logging.getLogger(__name__)
_REGISTRY: dict[str, Callable] = {}


def job(name: str):
    def register(func: Callable) -> Callable:
        _REGISTRY[name] = func
        return func

    return register


def job_submit(*, kind: str, params: dict, user=None) -> Job:
    """Create a job and start it: in a thread, or inline when XINYE_JOBS_INLINE is set (tests, commands)."""
    if kind not in _REGISTRY:
        raise KeyError(f"no job named {kind!r}")
    j = Job.objects.create(kind=kind, params=params, created_by=user if user and user.is_authenticated else None)
    if getattr(settings, "XINYE_JOBS_INLINE", False):
        job_run(j.pk)
    else:
        # start only once the job row is committed, so the thread's own connection can see it
        transaction.on_commit(
            lambda: threading.Thread(target=_thread_main, args=(j.pk,), daemon=True, name=f"job-{j.pk}").start()
        )
    return j


def _thread_main(pk: int) -> None:
    try:
        job_run(pk)
    finally:
        close_old_connections()
        connection.close()


def job_run(pk: int) -> Job:
    Job.objects.filter(pk=pk).update(status=Job.Status.RUNNING, started_at=timezone.now())

    def report(stage: str, done: int, total: int) -> None:
        Job.objects.filter(pk=pk).update(stage=stage[:100], done=done, total=total)

    try:
        j = Job.objects.get(pk=pk)
        url = _REGISTRY[j.kind](j, report=report, **j.params)
    except XinyeError as exc:  # meant for the user as it is (row errors of an input, a refused plan...)
        log.info("job %s failed: %s", pk, exc)
        Job.objects.filter(pk=pk).update(status=Job.Status.FAILED, message=str(exc)[:8000], finished_at=timezone.now())
    except Exception:  # a job must record its failure rather than die silently in a thread
        # the traceback goes to the log only; the user sees a message and the error id that finds it there
        error_id = new_error_id()
        log.exception("job %s failed: error %s", pk, error_id)
        Job.objects.filter(pk=pk).update(
            status=Job.Status.FAILED, message="", error_id=error_id, finished_at=timezone.now()
        )
    else:
        Job.objects.filter(pk=pk).update(status=Job.Status.DONE, result_url=url or "", finished_at=timezone.now())
    return Job.objects.get(pk=pk)
