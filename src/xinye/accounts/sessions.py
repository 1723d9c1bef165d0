"""Session timeouts (issue 10): a signed-in session ends after XINYE_SESSION_IDLE_MINUTES without a request
(30 by default) and XINYE_SESSION_MAX_HOURS after it began (12 by default), whatever happens in between.
The session remembers when it began and when it was last used; an expired one is signed out and its user
sent to the sign-in page with a message saying why."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone
from django.utils.translation import gettext as _

STARTED = "xinye_session_started"
SEEN = "xinye_session_seen"
#: the last-seen time is written at most this often (so that not every request writes the session)
SEEN_RESOLUTION = 60


def session_expired(session, now: float) -> str | None:
    """Why this session is over ("idle" or "max"), or None; stamps a new session."""
    started, seen = session.get(STARTED), session.get(SEEN)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        session[STARTED] = session[SEEN] = now
        return None
    if now - started > settings.XINYE_SESSION_MAX_HOURS * 3600:
        return "max"
    if now - seen > settings.XINYE_SESSION_IDLE_MINUTES * 60:
        return "idle"
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN] = now
    return None


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            why = session_expired(request.session, timezone.now().timestamp())
            if why:
                logout(request)
                if why == "idle":
                    text = _("You were signed out after %(n)s minutes without activity. Please sign in again.") % {
                        "n": f"{settings.XINYE_SESSION_IDLE_MINUTES:g}"
                    }
                else:
                    text = _("You were signed out %(n)s hours after signing in. Please sign in again.") % {
                        "n": f"{settings.XINYE_SESSION_MAX_HOURS:g}"
                    }
                if not request.path.startswith(("/api/", "/open311/")):
                    messages.info(request, text)
                    return redirect_to_login(request.get_full_path() if request.method == "GET" else "/")
                # the API goes on as for anyone without a session (it refuses what needs one)
        return self.get_response(request)
