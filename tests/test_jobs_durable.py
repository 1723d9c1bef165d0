"""Durable jobs and schedules (issue 11, "What must be true" 1 and 2): a separate worker process (django-q2 on
the project's database) runs jobs; one killed mid-way is run again by a fresh worker; a job whose worker keeps
stopping, or that passes its time limit, ends "failed" with the reason and a restart button; transient errors
are retried with backoff; schedules are data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from xinye.common import jobs
from xinye.common.models import Job
from xinye.common.schedules import ensure_schedules, planned
from xinye.organizations.models import Company, Organization, Proposal, Reminder, ReminderKind
from xinye.organizations.reminders import reminders_refresh

ROOT = Path(__file__).resolve().parent.parent

_calls: list[int] = []


@jobs.job("test_flaky", timeout=60)
def _flaky(j, *, report, fail_times: int = 1) -> str:
    _calls.append(j.pk)
    if len(_calls) <= fail_times:
        raise OperationalError("the database went away")
    return "/done/"


@pytest.mark.django_db
def test_a_transient_error_is_retried_with_backoff(settings):
    settings.XINYE_JOB_RETRY_BASE = 10
    _calls.clear()
    j = Job.objects.create(kind="test_flaky", params={"fail_times": 1}, attempts=1)
    jobs.job_run(j.pk, 1)
    j.refresh_from_db()
    assert j.status == Job.Status.QUEUED and j.attempts == 2 and "retrying in 10 s" in j.message
    s = Schedule.objects.get(name=f"xinye job {j.pk} attempt 2")
    assert s.func == "xinye.common.jobs.job_run" and s.args == f"{j.pk}, 2"
    assert timedelta(seconds=8) < s.next_run - timezone.now() <= timedelta(seconds=10)
    # the queue delivers the second attempt: it succeeds
    jobs.job_run(j.pk, 2)
    j.refresh_from_db()
    assert j.status == Job.Status.DONE and j.result_url == "/done/"
    # a late delivery of the first attempt does nothing
    _calls.clear()
    assert jobs.job_run(j.pk, 1).status == Job.Status.DONE and _calls == []


@pytest.mark.django_db
def test_the_last_attempt_fails_with_an_error_id(settings):
    settings.XINYE_JOB_MAX_ATTEMPTS = 2
    _calls.clear()
    j = Job.objects.create(kind="test_flaky", params={"fail_times": 5}, attempts=2)
    jobs.job_run(j.pk, 2)
    j.refresh_from_db()
    assert j.status == Job.Status.FAILED and j.error_id


@pytest.mark.django_db
def test_recovery_requeues_then_fails_with_the_reason_and_the_page_offers_a_restart(
    login, settings, django_capture_on_commit_callbacks
):
    settings.XINYE_JOB_MAX_ATTEMPTS = 2
    client = login("organizer")
    user = client.session and Job._meta.get_field("created_by").related_model.objects.get(username="organizer")
    long_ago = timezone.now() - timedelta(minutes=5)
    company = Company.objects.filter(organizations__isnull=False).first()
    j = Job.objects.create(
        kind="structure_plan",
        params={"company_id": company.pk},
        status=Job.Status.RUNNING,
        attempts=1,
        started_at=long_ago,
        heartbeat_at=long_ago,
        created_by=user,
    )
    queued = OrmQ.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_recover() == {"requeued": 1, "failed": 0}
    j.refresh_from_db()
    assert j.status == Job.Status.QUEUED and j.attempts == 2 and OrmQ.objects.count() == queued + 1
    assert jobs.worker_last_beat() is not None
    # the second attempt's worker stops too: the job ends failed, saying why
    Job.objects.filter(pk=j.pk).update(status=Job.Status.RUNNING, heartbeat_at=long_ago, started_at=long_ago)
    assert jobs.jobs_recover() == {"requeued": 0, "failed": 1}
    j.refresh_from_db()
    assert j.status == Job.Status.FAILED and j.message == jobs.STOPPED_NOTE.format(n=2)
    page = client.get(f"/jobs/{j.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "The worker running this job stopped (killed, or the machine restarted) 2 time(s)." in html
    assert f'action="/jobs/{j.pk}/restart/"' in html
    # past its kind's time limit: failed with that reason
    Job.objects.filter(pk=j.pk).update(
        status=Job.Status.RUNNING, attempts=1, started_at=timezone.now() - timedelta(hours=1), heartbeat_at=long_ago
    )
    jobs.jobs_recover()
    assert Job.objects.get(pk=j.pk).message == jobs.TIME_LIMIT_NOTE
    # the restart button runs it again (inline here) and it completes
    settings.XINYE_JOBS_INLINE = True
    before = Proposal.objects.filter(company=company).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/jobs/{j.pk}/restart/")
    assert response.status_code == 302
    j.refresh_from_db()
    assert j.status == Job.Status.DONE and j.restarts == 1
    assert Proposal.objects.filter(company=company).count() == before + 1
    # somebody else's job: not found
    assert login("district").post(f"/jobs/{j.pk}/restart/").status_code == 404


@pytest.mark.django_db
def test_schedules_are_data_and_never_overwritten():
    made = ensure_schedules()
    assert sorted(made) == sorted(p.name for p in planned())
    escalate = Schedule.objects.get(name="xinye: escalate late demands")
    assert escalate.schedule_type == Schedule.MINUTES and escalate.minutes == 5
    escalate.minutes = 10  # an administrator changes it
    escalate.save()
    assert ensure_schedules() == []
    assert Schedule.objects.get(name="xinye: escalate late demands").minutes == 10
    for p in planned():  # each names a function that exists
        module, _, name = p.func.rpartition(".")
        assert callable(getattr(__import__(module, fromlist=[name]), name))


@pytest.mark.django_db
def test_daily_reminders_and_the_home_page(login):
    org = Organization.objects.filter(kind="branch", dissolved_on__isnull=True).first()
    Organization.objects.filter(pk=org.pk).update(term_ends_on=date(2020, 1, 1))
    counts = reminders_refresh()
    assert counts[ReminderKind.TERM_EXPIRED] >= 1
    assert Reminder.objects.filter(organization=org, kind=ReminderKind.TERM_EXPIRED).exists()
    assert reminders_refresh() == counts  # replaced, not added
    page = login("admin").get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"data-reminders" in page.content and org.name.encode() in page.content


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "xinye.cli", "worker", "--processes", "1"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_is_replaced_and_the_job_runs_once(live_demo, settings):
    settings.XINYE_JOBS_INLINE = False
    company = Company.objects.filter(organizations__isnull=False).order_by("pk").first()
    before = Proposal.objects.filter(company=company).count()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "PYTHONPATH": str(ROOT / "src"),
        "XINYE_JOBS_STEP_DELAY": "0.7",  # the job takes a few seconds: long enough to be killed in the middle
        "XINYE_JOB_HEARTBEAT": "0.3",
        "XINYE_JOB_STALE_AFTER": "2",
        "XINYE_WORKER_POLL": "0.2",
    }
    j = jobs.job_submit(kind="structure_plan", params={"company_id": company.pk})
    first = _worker(env)
    try:
        assert _wait(lambda: Job.objects.get(pk=j.pk).status == Job.Status.RUNNING, 60), "the worker never started it"
        assert _wait(lambda: Job.objects.get(pk=j.pk).done > 0, 20)
        os.killpg(first.pid, signal.SIGKILL)  # kill -9 the whole worker, mid-job
        first.wait(10)
        j.refresh_from_db()
        assert j.status == Job.Status.RUNNING and j.attempts == 1  # it was stopped in the middle
        time.sleep(2.5)  # its heartbeat goes stale
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    second = _worker(env)
    try:
        assert _wait(lambda: Job.objects.get(pk=j.pk).status in (Job.Status.DONE, Job.Status.FAILED), 120)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        try:
            second.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
    j.refresh_from_db()
    assert j.status == Job.Status.DONE and j.attempts == 2, (j.status, j.attempts, j.message)
    assert Proposal.objects.filter(company=company).count() == before + 1  # written once, on completion
