from .scope import request_scope


def actor(request):
    """Template context: the acting user's scope, as `scope`."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"scope": request_scope(request)}
