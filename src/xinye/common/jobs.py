"""Background jobs: a row in the database (progress, result, failure) run by a separate worker process.

The queue is django-q2 on the project's own database (its ORM broker: no other service to run; Redis is
not needed). `xinye worker` starts the worker (`make demo` starts it beside the web server). In tests and
commands, XINYE_JOBS_INLINE runs a job at once in the caller.

Durability (issue 11):
- each delivery of a job carries its attempt number; a delivery that is not the job's current attempt, or of a
  job that already ended, does nothing (so a late re-delivery by the queue never runs a job twice);
- while a job runs, a heartbeat thread stamps `heartbeat_at`; `jobs_recover` (run by the worker when it starts
  and every minute after) finds running jobs whose heartbeat stopped (the worker was killed, the machine
  restarted) and runs them again, up to XINYE_JOB_MAX_ATTEMPTS attempts in all; after that, and for a job
  past its kind's time limit, the job ends "failed" with the reason, and its page offers a restart button;
- a transient error (the database went away, a timeout talking to a service) is retried with exponential
  backoff (XINYE_JOB_RETRY_BASE seconds, times 4 each attempt);
- a job's work is one transaction in its service, written on completion only, so running it again is safe.

Errors meant for users (XinyeError: row errors and the like) are shown as they are; anything else only as an
error id, its traceback in the log.

Job functions are registered by name: ``@job("structure_plan", timeout=600) def run(job, *, report, **params)
-> str`` returns the URL of the result page.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from xinye.algorithms.errors import XinyeError

from .failures import new_error_id
from .models import Job

log = logging.getLogger(__name__)

#: how long a kind of job may run by default (seconds); `@job(..., timeout=...)` sets one kind's
DEFAULT_TIMEOUT = 30 * 60
#: errors worth trying again after a pause: the database or a service was briefly unavailable
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
WORKER_BEAT_KEY = "xinye:worker:beat"


@dataclass(frozen=True)
class JobKind:
    func: Callable
    timeout: int


_REGISTRY: dict[str, JobKind] = {}


def job(name: str, *, timeout: int = DEFAULT_TIMEOUT):
    """Register a job function under `name`, with its time limit in seconds."""

    def register(func: Callable) -> Callable:
        _REGISTRY[name] = JobKind(func, timeout)
        return func

    return register


def kinds() -> dict[str, JobKind]:
    return dict(_REGISTRY)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def max_attempts() -> int:
    return int(_setting("XINYE_JOB_MAX_ATTEMPTS", 3))


def job_submit(*, kind: str, params: dict, user=None) -> Job:
    """Create a job and queue it for the worker (or run it at once when XINYE_JOBS_INLINE is set)."""
    if kind not in _REGISTRY:
        raise KeyError(f"no job named {kind!r}")
    j = Job.objects.create(kind=kind, params=params, created_by=user if user and user.is_authenticated else None)
    if getattr(settings, "XINYE_JOBS_INLINE", False):
        Job.objects.filter(pk=j.pk).update(attempts=1)
        job_run(j.pk, 1, beat=False)
    else:
        # queue only once the job row is committed, so the worker can see it
        transaction.on_commit(lambda: job_enqueue(j.pk))
    return j


def job_enqueue(pk: int, *, delay: float = 0, note: str = "") -> int:
    """Queue the next attempt of job `pk` (after `delay` seconds); returns the attempt's number."""
    from django_q.models import Schedule
    from django_q.tasks import async_task

    with transaction.atomic():
        Job.objects.filter(pk=pk).update(
            attempts=F("attempts") + 1, status=Job.Status.QUEUED, heartbeat_at=None, message=note, error_id=""
        )
        j = Job.objects.get(pk=pk)
        timeout = _REGISTRY[j.kind].timeout if j.kind in _REGISTRY else DEFAULT_TIMEOUT
        if delay > 0:
            Schedule.objects.create(
                name=f"xinye job {pk} attempt {j.attempts}",
                func="xinye.common.jobs.job_run",
                args=f"{pk}, {j.attempts}",
                kwargs=f"{{'q_options': {{'timeout': {timeout}, 'task_name': 'job-{pk}-{j.attempts}'}}}}",
                schedule_type=Schedule.ONCE,
                repeats=1,
                next_run=timezone.now() + timedelta(seconds=delay),
            )
        else:
            transaction.on_commit(
                lambda: async_task(
                    "xinye.common.jobs.job_run", pk, j.attempts, task_name=f"job-{pk}-{j.attempts}", timeout=timeout
                )
            )
    return j.attempts


def job_restart(job: Job) -> Job:
    """Run a failed job again (the restart button): a fresh set of attempts."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status != Job.Status.FAILED:
            return locked
        Job.objects.filter(pk=job.pk).update(
            attempts=0, stage="", done=0, total=0, started_at=None, finished_at=None, restarts=F("restarts") + 1
        )
        if getattr(settings, "XINYE_JOBS_INLINE", False):
            Job.objects.filter(pk=job.pk).update(attempts=1, status=Job.Status.QUEUED, message="", error_id="")
            transaction.on_commit(lambda: job_run(job.pk, 1, beat=False))
        else:
            job_enqueue(job.pk)
    return Job.objects.get(pk=job.pk)


class _Heartbeat(threading.Thread):
    """Stamps the job's heartbeat every few seconds while it runs, from its own connection."""

    def __init__(self, pk: int, every: float):
        super().__init__(daemon=True, name=f"job-{pk}-heartbeat")
        self.pk, self.every, self.stop = pk, every, threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                Job.objects.filter(pk=self.pk, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
        except DatabaseError:  # the job's own thread reports the database's failure
            log.warning("job %s: heartbeat stopped", self.pk, exc_info=True)
        finally:
            connection.close()


def job_run(pk: int, attempt: int | None = None, *, beat: bool = True) -> Job | None:
    """Run attempt `attempt` of job `pk` (the worker's entry point). A stale delivery does nothing."""
    with transaction.atomic():
        j = Job.objects.select_for_update().filter(pk=pk).first()
        if j is None or j.status in (Job.Status.DONE, Job.Status.FAILED):
            return j
        if attempt is not None and j.attempts != attempt:
            log.info("job %s: delivery of attempt %s ignored (current attempt %s)", pk, attempt, j.attempts)
            return j
        now = timezone.now()
        Job.objects.filter(pk=pk).update(status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, stage="")
    delay = float(os.environ.get("XINYE_JOBS_STEP_DELAY", "0") or 0)  # slows progress down: demos and the kill test

    def report(stage: str, done: int, total: int) -> None:
        Job.objects.filter(pk=pk).update(stage=stage[:100], done=done, total=total, heartbeat_at=timezone.now())
        if delay:
            time.sleep(delay)

    heart = _Heartbeat(pk, _setting("XINYE_JOB_HEARTBEAT", 5)) if beat else None
    if heart is not None:
        heart.start()
    try:
        j = Job.objects.get(pk=pk)
        url = _REGISTRY[j.kind].func(j, report=report, **j.params)
    except XinyeError as exc:  # meant for the user as it is (row errors of an input, a refused plan...)
        log.info("job %s failed: %s", pk, exc)
        _end(pk, Job.Status.FAILED, message=str(exc)[:8000])
    except TRANSIENT as exc:
        attempts = Job.objects.filter(pk=pk).values_list("attempts", flat=True).first() or 1
        if beat and attempts < max_attempts():
            wait = _setting("XINYE_JOB_RETRY_BASE", 30) * 4 ** (attempts - 1)
            log.warning("job %s: transient error, attempt %s again in %.0f s: %s", pk, attempts + 1, wait, exc)
            if not connection.in_atomic_block:
                connection.close()  # it may be the broken one: the next query opens a fresh connection
            job_enqueue(pk, delay=wait, note=f"retrying in {wait:.0f} s after a transient error")
        else:
            error_id = new_error_id()
            log.exception("job %s failed: error %s", pk, error_id)
            _end(pk, Job.Status.FAILED, error_id=error_id)
    except BaseException as exc:  # a job must record its failure rather than die silently
        # the traceback goes to the log only; the user sees a message and the error id that finds it there
        error_id = new_error_id()
        timed_out = type(exc).__name__ == "TimeoutException"  # django-q's time limit
        log.exception("job %s failed%s: error %s", pk, " (time limit)" if timed_out else "", error_id)
        _end(pk, Job.Status.FAILED, error_id=error_id, message=TIME_LIMIT_NOTE if timed_out else "")
        if not isinstance(exc, Exception):
            raise
    else:
        _end(pk, Job.Status.DONE, result_url=url or "")
    finally:
        if heart is not None:
            heart.stop.set()
    return Job.objects.filter(pk=pk).first()


TIME_LIMIT_NOTE = "the job took longer than its time limit and was stopped"
STOPPED_NOTE = "the worker running this job stopped (it was killed or the machine restarted) {n} time(s)"


def _end(pk: int, status: str, **fields) -> None:
    Job.objects.filter(pk=pk).update(status=status, finished_at=timezone.now(), heartbeat_at=None, **fields)


def jobs_recover(*, now=None) -> dict:
    """Find running jobs whose heartbeat stopped and run them again, or end them "failed" with the reason
    (after XINYE_JOB_MAX_ATTEMPTS attempts, or past their time limit). The worker runs this when it starts
    and every minute; it also records the worker's heartbeat for /healthz."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=_setting("XINYE_JOB_STALE_AFTER", 60))
    out = {"requeued": 0, "failed": 0}
    for j in Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=stale) | Job.objects.filter(
        status=Job.Status.RUNNING, heartbeat_at__isnull=True, started_at__lt=stale
    ):
        timeout = _REGISTRY[j.kind].timeout if j.kind in _REGISTRY else DEFAULT_TIMEOUT
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=j.pk)
            if locked.status != Job.Status.RUNNING or locked.attempts != j.attempts:
                continue  # it moved on meanwhile
            if locked.started_at and locked.started_at + timedelta(seconds=timeout) < now:
                _end(j.pk, Job.Status.FAILED, message=TIME_LIMIT_NOTE)
                out["failed"] += 1
            elif locked.attempts >= max_attempts():
                _end(j.pk, Job.Status.FAILED, message=STOPPED_NOTE.format(n=locked.attempts))
                out["failed"] += 1
            else:
                job_enqueue(j.pk, note="the worker stopped: running it again")
                out["requeued"] += 1
        log.warning("job %s (%s): heartbeat stopped; %s", j.pk, j.kind, "failed" if out["failed"] else "queued again")
    worker_beat(now)
    return out


def worker_beat(now=None) -> None:
    """Record that a worker is alive (read by /healthz)."""
    cache.set(WORKER_BEAT_KEY, (now or timezone.now()).isoformat(), timeout=None)


def worker_last_beat():
    """When a worker last said it was alive (None: never)."""
    from datetime import datetime

    value = cache.get(WORKER_BEAT_KEY)
    return datetime.fromisoformat(value) if value else None
