"""Template side of accounts.policy: `{% load policy %}{% phone person %}` shows a phone as the viewer may
see it (full and audited, or masked)."""

from django import template

from xinye.accounts import policy
from xinye.accounts.scope import request_scope

register = template.Library()


@register.simple_tag(takes_context=True)
def phone(context, person) -> str:
    request = context.get("request")
    if request is None:
        return policy.mask_phone(getattr(person, "phone", "") or "")
    return policy.phone_for(request_scope(request), person)
