from django.db import models


class DemoRun(models.Model):
    """Records that a demo city was built, with its parameters, so `xinye demo` does not build it twice."""

    city_code = models.CharField(max_length=6)
    workers = models.PositiveIntegerField()
    seed = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    summary = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"demo {self.city_code} ({self.workers} workers, seed {self.seed})"
