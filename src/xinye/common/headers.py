"""Response headers every page, API call, static file and error response carries (issue 10).

The Content-Security-Policy itself comes from django-csp (settings.CONTENT_SECURITY_POLICY); this module adds
the Permissions-Policy, which Django has no setting for.
"""

from __future__ import annotations

from django.conf import settings


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
