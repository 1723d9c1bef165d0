"""The REST API: OpenAPI schema valid, and no server error under a property-based run. Issue #2."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert {"/api/people/", "/api/organizations/", "/api/divisions/", "/api/companies/"} <= set(spec["paths"])


def test_docs_page_is_served_without_a_cdn(login):
    page = login("admin").get("/api/docs/").content.decode()
    assert "swagger-ui" in page and "cdn.jsdelivr" not in page


@pytest.fixture
def keep_connection():
    """Calling the WSGI app directly would close the test's database connection at the end of each
    request (Django's test client disconnects the same handlers)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


#: GET endpoints without an id that answer one object, not a list (a division's indicators)
ONE = {"/api/indicators/"}


def test_property_based_run_finds_no_server_error(login, keep_connection, settings):
    settings.XINYE_JOBS_INLINE = True
    from xinye.config.wsgi import application

    client = login("admin")
    cookie = client.cookies["sessionid"].value
    spec = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    failures = []
    operations = [result.ok() for result in spec.get_all_operations()]
    assert len(operations) >= 10
    for op in operations:
        _check(op, cookie, failures)
    assert failures == []


def _check(op, cookie, failures):
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy())
    def run(case):
        response = case.call(cookies={"sessionid": cookie})
        if response.status_code >= 500:
            failures.append((op.label, case.formatted_path, response.status_code))
        elif op.method.upper() == "GET" and response.status_code == 200 and "{" not in op.path and op.path not in ONE:
            body = response.json()
            assert isinstance(body, list) or "results" in body

    run()


@pytest.mark.parametrize(
    "query", ["?limit=99999999999999999999", "?offset=99999999999999999999", "?limit=-3", "?limit=1&limit=2"]
)
def test_out_of_range_paging_is_a_400_naming_the_parameter(login, query):
    response = login("admin").get("/api/companies/" + query)
    assert response.status_code == 400 and set(response.json()) <= {"limit", "offset"}


def test_paging_within_range_works(login):
    response = login("admin").get("/api/companies/?limit=1000&offset=0")
    assert response.status_code == 200 and len(response.json()["results"]) <= 1000


@pytest.mark.parametrize("url", ["/api/people/?q=%00", "/api/companies/?q=a%00b", "/people/?q=%00"])
def test_nul_characters_are_refused_with_400(login, url):
    response = login("admin").get(url)
    assert response.status_code == 400
