"""Response headers every page, API call, static file and error response carries (issue 10).

The Content-Security-Policy itself comes from django-csp (settings.CONTENT_SECURITY_POLICY); this module adds
the Permissions-Policy, which Django has no setting for.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_cache_control

#: addresses whose answers are personal even without a signed-in user (a worker's own data, API answers)
PERSONAL_PREFIXES = ("/api/", "/open311/", "/my-data/", "/demands/track", "/accounts/")


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """{"geolocation": ["self"], "camera": []} -> 'geolocation=(self), camera=()'.

    "self" and "*" are keywords; any other entry is an origin and is quoted, as the header's grammar
    (a structured-field dictionary of inner lists) requires.
    """
    parts = []
    for feature, allow in policy.items():
        items = " ".join(a if a in ("self", "*") else f'"{a}"' for a in allow)
        parts.append(f"{feature}=({items})")
    return ", ".join(parts)


class PermissionsPolicyMiddleware:
    """Adds `Permissions-Policy` (settings.XINYE_PERMISSIONS_POLICY) to every response that has none."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy_header(getattr(settings, "XINYE_PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response


class NoStoreMiddleware:
    """`Cache-Control: private, no-store` on every answer that may hold personal data: anything a signed-in
    user sees, the API, Open311 and a worker's own pages; so neither a shared proxy nor the browser's cache
    keeps a page full of names and phone numbers after the session ends (ASVS 5.0 V14.2.2, V14.3.2).
    Static files and answers that set their own caching keep theirs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control") or request.path.startswith(settings.STATIC_URL_PATH):
            return response
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith(PERSONAL_PREFIXES):
            patch_cache_control(response, private=True, no_store=True)
        return response
