"""Shared fixtures: one real city (Shenzhen, 4403) and a small demo on it, loaded once per test session.

Each test runs in a transaction that is rolled back, so tests may change the data freely.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model

DEMO_CITY = "4403"
DEMO_WORKERS = 8000
DEMO_SEED = 7


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from xinye.demo import services as demo_services

    with django_db_blocker.unblock():
        demo_services.demo_build(city=DEMO_CITY, workers=DEMO_WORKERS, seed=DEMO_SEED)
    yield


@pytest.fixture
def demo(db):
    from xinye.demo.models import DemoRun

    return DemoRun.objects.get(city_code=DEMO_CITY)


@pytest.fixture
def login(client):
    """login("secretary") -> a test client logged in as that demo user."""

    def _login(username: str):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return _login


def pytest_collection_modifyitems(config, items):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
