from django.utils.functional import SimpleLazyObject

from .navigation import main_menu
from .scope import request_scope


def actor(request):
    """Template context: the acting user's scope, as `scope`, and their main menu, as `nav` (computed only
    when a template shows it)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    scope = request_scope(request)
    return {"scope": scope, "nav": SimpleLazyObject(lambda: main_menu(scope, request.path))}
