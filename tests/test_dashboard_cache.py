"""The dashboard counts each scope at most once a minute (issue 11, item 6: organizer pages set the soak's p99),
never sharing a count between scopes."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from xinye.accounts.scope import scope_for
from xinye.people.models import Person

pytestmark = pytest.mark.django_db


def _workers(client):
    page = client.get("/")
    assert page.status_code == 200
    return page.context["people"]["workers"], page


def test_counts_are_kept_per_scope_and_never_shared(settings):
    settings.XINYE_DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    users = get_user_model().objects
    organizer, admin = Client(), Client()
    organizer.force_login(users.get(username="organizer"))
    admin.force_login(users.get(username="admin"))
    before, page = _workers(organizer)
    assert "统计于" in page.content.decode() or "Counted at" in page.content.decode()
    admin_before, _ = _workers(admin)
    from xinye.people.selectors import person_q

    community = Person.objects.filter(person_q(scope_for(users.get(username="organizer")))).first().work_community
    Person.objects.create(name="新来的骑手", occupation="delivery_rider", work_community=community)
    # within the minute the organizer sees the count they saw; the administrator's scope is counted apart
    assert _workers(organizer)[0] == before
    assert _workers(admin)[0] == admin_before  # counted before the new person, also kept
    cache.clear()
    assert _workers(organizer)[0] == before + 1 and _workers(admin)[0] == admin_before + 1


def test_counting_on_every_request_when_the_cache_is_off(settings):
    settings.XINYE_DASHBOARD_CACHE_SECONDS = 0
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    before, _ = _workers(client)
    Person.objects.create(name="新来的司机", occupation="ride_hailing_driver")
    assert _workers(client)[0] == before + 1
