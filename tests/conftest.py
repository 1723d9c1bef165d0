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


@pytest.fixture
def live_demo(transactional_db):
    """For browser tests in their own files: the demo city in the live server's database.

    A transactional test empties the database when it ends, so the next one rebuilds the demo when it is missing
    (pytest-django runs transactional tests after all the others). Use with `live_server`.
    """
    import importlib

    from django.apps import apps

    from xinye.demands.models import Category
    from xinye.demo import services as demo_services

    if not Category.objects.exists():  # a flush empties what data migrations wrote too
        importlib.import_module("xinye.demands.migrations.0002_categories").add(apps, None)
    if not demo_services.demo_exists(city=DEMO_CITY):
        demo_services.demo_build(city=DEMO_CITY, workers=DEMO_WORKERS, seed=DEMO_SEED)
    return DEMO_CITY
