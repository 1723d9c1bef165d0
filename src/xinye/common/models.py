from django.db import models
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Job(TimestampedModel):
    """A background job (audit or plan of a large company, formation of a city's branches...).

    The job's code reports progress through `common.jobs.report`; pages poll `/jobs/<id>/`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(_("message"), blank=True)
    result_url = models.CharField(max_length=200, blank=True)
    #: an unexpected failure: the id of its log line (which holds the traceback); never shown as a traceback
    error_id = models.CharField(_("error id"), max_length=16, blank=True)
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: durable jobs (issue 11): the current attempt (each delivery carries its number), the running attempt's
    #: last sign of life, and how many times a user restarted the job after it failed
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    restarts = models.PositiveSmallIntegerField(_("restarts"), default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == "done" else 0)


class RateCounter(models.Model):
    """One rate limit's count for one client in one fixed window (common/ratelimit.py).

    Kept in the project database so that every process shares it and a restart does not reset it;
    incremented with `UPDATE ... SET count = count + 1`, never read-then-written.
    """

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"


class IdempotencyKey(models.Model):
    """A form's idempotency key (hashed, with its namespace) and the object its first submission made
    (common/idempotency.py). Kept a day."""

    key = models.CharField(max_length=64, unique=True)
    object_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.key[:12]}…={self.object_id}"
