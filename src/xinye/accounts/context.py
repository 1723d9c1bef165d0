from django.utils.functional import SimpleLazyObject

from .navigation import main_menu
from .scope import request_scope


def actor(request):
    """Template context: the acting user's scope, as `scope`, and their main menu, as `nav` (computed only
    when a template shows it); in a worker's volunteer session, their person as `phone_volunteer`."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        # a worker's volunteer session (volunteering.phone), on the volunteering pages that take it
        person = getattr(request, "xinye_phone_person", None)
        return {"phone_volunteer": person} if person is not None else {}
    scope = request_scope(request)
    return {"scope": scope, "nav": SimpleLazyObject(lambda: main_menu(scope, request.path))}
