"""The audit log's writers: sign-ins (Django's auth signals) and sensitive reads (collected during a
request by the policy functions, written once at its end by `AuditMiddleware`: one row per field and
subject model, naming how many subjects were read and their ids).

A read is recorded only inside a request (pages, API, Open311); the command line is used by operators who
hold the database anyway. The client address is the request's REMOTE_ADDR.
"""

from __future__ import annotations

import contextvars
import logging
from collections import defaultdict

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

log = logging.getLogger(__name__)
MAX_IDS = 1000  # ids named in one entry (the count is always exact)

_reads: contextvars.ContextVar[_Reads | None] = contextvars.ContextVar("xinye_audit_reads", default=None)


def client_address(request) -> str:
    """The client's address by the project's trusted-proxy rule (the same one the limits use)."""
    from xinye.common.ratelimit import client_ip

    return (client_ip(request) if request is not None else "")[:45]


class _Reads:
    def __init__(self, request):
        self.request = request
        self.subjects: dict[tuple[int | None, str, str], dict[int, None]] = defaultdict(dict)

    def add(self, user_id, field: str, subject_type: str, subject_id) -> None:
        self.subjects[(user_id, field, subject_type)][subject_id] = None

    def flush(self) -> None:
        if not self.subjects:
            return
        from django.contrib.auth import get_user_model

        from .models import AuditEvent

        names = dict(
            get_user_model()
            .objects.filter(pk__in={u for u, _f, _t in self.subjects if u})
            .values_list("pk", "username")
        )
        now = timezone.now()
        rows = [
            AuditEvent(
                at=now,
                user_id=user_id,
                username=names.get(user_id, ""),
                kind=AuditEvent.Kind.READ,
                field=field,
                subject_type=subject_type,
                subject_ids=",".join(str(i) for i in list(ids)[:MAX_IDS]),
                count=len(ids),
                path=self.request.path[:300],
                address=client_address(self.request),
            )
            for (user_id, field, subject_type), ids in self.subjects.items()
        ]
        AuditEvent.objects.bulk_create(rows)
        self.subjects.clear()


def read(scope, field: str, subject_type: str, subject_id) -> None:
    """Note that the scope's user was shown `field` of a subject (within the current request)."""
    reads = _reads.get()
    if reads is not None:
        reads.add(scope.user_id, field, subject_type, subject_id)


class AuditMiddleware:
    """Collects the sensitive reads of a request and writes them once, after the response is made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reads = _Reads(request)
        token = _reads.set(reads)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
            try:
                reads.flush()
            except Exception:  # the audit must not turn a page into an error; the log says it failed
                log.exception("the audit entries of %s could not be written", request.path)
        return response


def _sign(kind: str, request, user=None, username: str = "") -> None:
    from .models import AuditEvent

    AuditEvent.objects.create(
        at=timezone.now(),
        user=user if user is not None and user.pk else None,
        username=(username or getattr(user, "username", "") or "")[:150],
        kind=kind,
        path=(request.path if request is not None and hasattr(request, "path") else "")[:300],
        address=client_address(request),
    )


@receiver(user_logged_in, dispatch_uid="xinye_audit_sign_in")
def _signed_in(sender, request, user, **kwargs):
    from .models import AuditEvent

    _sign(AuditEvent.Kind.SIGN_IN, request, user)


@receiver(user_login_failed, dispatch_uid="xinye_audit_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    from .models import AuditEvent

    _sign(AuditEvent.Kind.SIGN_IN_FAILED, request, username=str(credentials.get("username", "")))


@receiver(user_logged_out, dispatch_uid="xinye_audit_sign_out")
def _signed_out(sender, request, user, **kwargs):
    from .models import AuditEvent

    _sign(AuditEvent.Kind.SIGN_OUT, request, user)
