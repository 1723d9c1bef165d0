"""W3C ORG (Turtle, JSON-LD) and Popolo exports read back by an independent parser (rdflib). Issue #3."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph
from rdflib.namespace import ORG, RDF

from xinye.accounts.models import Role
from xinye.organizations import planning
from xinye.organizations.exports import parse_tree
from xinye.organizations.models import Organization

pytestmark = pytest.mark.django_db


def _expected(root):
    orgs = list(root.descendants(include_self=True).filter(dissolved_on__isnull=True))
    ids = {o.pk for o in orgs}
    return {str(o.pk): (str(o.parent_id) if o.parent_id in ids else None, o.name, o.kind) for o in orgs}


@pytest.mark.parametrize(("fmt", "rdf_format"), [("ttl", "turtle"), ("jsonld", "json-ld")])
def test_the_tree_reads_back_the_same(login, fmt, rdf_format):
    root = Role.objects.get(user__username="staff").organization
    response = login("staff").get(f"/organizations/{root.pk}/export.{fmt}")
    assert response.status_code == 200
    graph = Graph().parse(data=response.content.decode(), format=rdf_format)
    assert parse_tree(graph) == _expected(root)
    memberships = set(graph.subjects(RDF.type, ORG.Membership))
    assert len(memberships) == sum(
        o.memberships.filter(until__isnull=True).count() for o in root.descendants(include_self=True)
    )
    # people appear by identifier only: no names, no phone numbers
    person = root.descendants().filter(memberships__isnull=False).first().memberships.first().person
    body = response.content.decode()
    assert person.name not in body and person.phone not in body


def test_splits_and_merges_of_an_approved_plan_are_change_events(login, settings):
    root = Role.objects.get(user__username="staff").organization
    proposal = planning.proposal_create(company=root.company)
    planning.proposal_approve(proposal=proposal, user=Role.objects.get(user__username="staff").user)
    graph = Graph().parse(
        data=login("staff").get(f"/organizations/{root.pk}/export.ttl").content.decode(), format="turtle"
    )
    events = set(graph.subjects(RDF.type, ORG.ChangeEvent))
    assert events
    oversize = Organization.objects.get(name__contains="配送支部", company=root.company)
    split = [e for e in events if str(graph.value(e, ORG.originalOrganization)).endswith(f":{oversize.pk}")]
    assert split and len(list(graph.objects(split[0], ORG.resultingOrganization))) >= 2
    assert parse_tree(graph) == _expected(root)


def test_popolo_export_has_organizations_memberships_and_posts(login):
    root = Role.objects.get(user__username="staff").organization
    data = json.loads(login("staff").get(f"/organizations/{root.pk}/export.popolo.json").content)
    orgs = {o["id"]: o for o in data["organizations"]}
    assert orgs[f"organization/{root.pk}"]["parent_id"] is None
    assert all(o["parent_id"] is None or o["parent_id"] in orgs for o in orgs.values())
    assert data["memberships"] and all(m["organization_id"] in orgs for m in data["memberships"])
    assert {"id", "person_id", "organization_id", "role", "start_date"} <= set(data["memberships"][0])
    assert data["posts"]


def test_export_is_scoped(login):
    root = Role.objects.get(user__username="staff").organization
    assert login("member").get(f"/organizations/{root.pk}/export.ttl").status_code == 404


def test_an_export_leaves_out_organizations_outside_the_callers_scope(login):
    from django.contrib.auth import get_user_model

    from xinye.accounts.models import Role as R
    from xinye.places.models import Division

    root = Role.objects.get(user__username="staff").organization
    child = root.children.filter(division__isnull=False).first()
    # an organizer of exactly the root's division (the city) sees all; one of the child's district only the child
    district = Division.objects.get(code=child.division.code[:6]) if len(child.division.code) >= 6 else None
    if district is None:
        pytest.skip("the demo child has no district")
    user = get_user_model().objects.create_user("org2", password="long-enough-password-1")
    R.objects.create(user=user, kind="organizer", division=district)
    login("org2")
    from django.test import Client

    c = Client()
    c.force_login(user)
    assert c.get(f"/organizations/{root.pk}/export.ttl").status_code == 404  # the root is in the city, not here
    graph = Graph().parse(data=c.get(f"/organizations/{child.pk}/export.ttl").content.decode(), format="turtle")
    ids = set(parse_tree(graph))
    visible = {
        str(o.pk)
        for o in child.descendants(include_self=True).filter(
            division__code__startswith=district.code, dissolved_on__isnull=True
        )
    }
    assert ids == visible
