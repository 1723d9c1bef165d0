"""Exports of an organization tree: W3C Organization Ontology (JSON-LD and Turtle) and Popolo JSON.

- Organizations are org:FormalOrganization (the root) and org:OrganizationalUnit (below it), linked by
  org:subOrganizationOf / org:hasSubOrganization, classified by kind, with their founding date and the
  business units they are anchored to (org:linkedTo).
- Memberships are org:Membership (org:member, org:organization, org:role, org:memberDuring); posts are
  org:Post (org:postIn, org:heldBy, org:role). People appear as identifiers only: no names, no phones.
- Approved plans that split or merged organizations appear as org:ChangeEvent with
  org:originalOrganization and org:resultingOrganization.

`parse_tree` reads a graph back (with rdflib, independently of how it was written) into
{organization id: (parent id, name, kind)}, so tests can check the round trip.

References: https://www.w3.org/TR/vocab-org/ ; https://www.popoloproject.com/specs/
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.utils.translation import get_language, to_locale
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, ORG, RDF, RDFS, SKOS, TIME, XSD

from xinye.people.rights import processable_q

from .models import Organization, Proposal, ProposalStatus

XINYE = Namespace("urn:xinye:")
KIND = Namespace("urn:xinye:kind:")
ROLE = Namespace("urn:xinye:role:")
SCHEMA = Namespace("https://schema.org/")


def org_uri(pk) -> URIRef:
    return XINYE[f"organization:{pk}"]


def person_uri(pk) -> URIRef:
    return XINYE[f"person:{pk}"]


def unit_uri(pk) -> URIRef:
    return XINYE[f"unit:{pk}"]


def subtree(root: Organization, scope=None) -> list[Organization]:
    """The root and its current descendants; with a scope, only those the caller may see."""
    qs = root.descendants(include_self=True).filter(dissolved_on__isnull=True)
    if scope is not None:
        from .selectors import organization_q

        qs = qs.filter(organization_q(scope))
    return list(qs.select_related("parent").prefetch_related("business_units"))


def org_graph(root: Organization, scope=None) -> Graph:
    """The current tree under `root` (included) as a W3C ORG graph."""
    from xinye.people.models import Membership

    g = Graph()
    g.bind("org", ORG)
    g.bind("skos", SKOS)
    g.bind("dct", DCTERMS)
    g.bind("schema", SCHEMA)
    g.bind("time", TIME)
    orgs = subtree(root, scope)
    ids = {o.pk for o in orgs}
    # the kinds and roles are concepts labelled in the language of the request (codes stay in their URIs)
    lang = to_locale(get_language() or "zh-hans").replace("_", "-")
    for o in orgs:
        u = org_uri(o.pk)
        g.add((u, RDF.type, ORG.Organization))
        g.add((u, RDF.type, ORG.FormalOrganization if o.pk == root.pk else ORG.OrganizationalUnit))
        g.add((u, SKOS.prefLabel, Literal(o.name, lang="zh-Hans")))
        g.add((u, ORG.identifier, Literal(str(o.pk))))
        g.add((u, ORG.classification, KIND[o.kind]))
        g.add((KIND[o.kind], SKOS.prefLabel, Literal(o.get_kind_display(), lang=lang)))
        if o.founded_on:
            g.add((u, SCHEMA.foundingDate, Literal(o.founded_on, datatype=XSD.date)))
        if o.parent_id in ids:
            g.add((u, ORG.subOrganizationOf, org_uri(o.parent_id)))
            g.add((org_uri(o.parent_id), ORG.hasSubOrganization, u))
        for bu in o.business_units.all():
            g.add((u, ORG.linkedTo, unit_uri(bu.pk)))
            g.add((unit_uri(bu.pk), RDFS.label, Literal(bu.name, lang="zh-Hans")))
        for post in o.posts.filter(end_date__isnull=True).select_related("person"):
            p = XINYE[f"post:{post.pk}"]
            g.add((p, RDF.type, ORG.Post))
            g.add((p, ORG.postIn, u))
            g.add((u, ORG.hasPost, p))
            g.add((p, ORG.role, ROLE[post.role]))
            g.add((ROLE[post.role], SKOS.prefLabel, Literal(post.get_role_display(), lang=lang)))
            if post.person_id and post.person.is_processable:  # not after the holder withdrew consent
                g.add((p, ORG.heldBy, person_uri(post.person_id)))
    for m in (
        Membership.objects.filter(organization_id__in=ids, until__isnull=True)
        .filter(processable_q("person__"))
        .order_by("pk")
    ):
        node = XINYE[f"membership:{m.pk}"]
        g.add((node, RDF.type, ORG.Membership))
        g.add((node, ORG.member, person_uri(m.person_id)))
        g.add((node, ORG.organization, org_uri(m.organization_id)))
        g.add((node, ORG.role, ROLE[m.status]))
        g.add((ROLE[m.status], SKOS.prefLabel, Literal(m.get_status_display(), lang=lang)))
        interval = BNode()
        g.add((node, ORG.memberDuring, interval))
        g.add((interval, RDF.type, TIME.Interval))
        start = BNode()
        g.add((interval, TIME.hasBeginning, start))
        g.add((start, TIME.inXSDDate, Literal(m.since, datatype=XSD.date)))
    for event in change_events(root, ids):
        node = XINYE[f"change:{event['proposal']}:{event['n']}"]
        g.add((node, RDF.type, ORG.ChangeEvent))
        g.add((node, RDFS.label, Literal(event["kind"])))
        g.add((node, DCTERMS.date, Literal(event["date"], datatype=XSD.date)))
        for o in event["original"]:
            g.add((node, ORG.originalOrganization, org_uri(o)))
            g.add((org_uri(o), ORG.changedBy, node))
        for o in event["resulting"]:
            g.add((node, ORG.resultingOrganization, org_uri(o)))
            g.add((org_uri(o), ORG.resultedFrom, node))
    return g


def change_events(root: Organization, ids: set[int]) -> list[dict]:
    """Splits (one organization's members went to two or more) and merges (one received members of two or
    more) in the approved plans of the root's company, as seen from the current organizations."""
    if root.company_id is None:
        return []
    events = []
    for proposal in Proposal.objects.filter(company_id=root.company_id, status=ProposalStatus.APPROVED).order_by("pk"):
        before = {m: o["id"] for o in proposal.before["organizations"] for m in o["members"]}
        flows: dict[str, set[str]] = defaultdict(set)
        back: dict[str, set[str]] = defaultdict(set)
        for o in proposal.plan["organizations"]:
            for m in o["members"]:
                if m in before and before[m] != o["id"]:
                    flows[before[m]].add(o["id"])
                    back[o["id"]].add(before[m])
        resolved = _resolve_new_ids(proposal)
        planned_ids = {o["id"] for o in proposal.plan["organizations"]}
        when = (proposal.decided_at or proposal.created_at).date()
        n = 0
        for original, results in sorted(flows.items()):
            # the original may live on (a split's first part keeps its id) next to the new parts
            targets = {str(resolved.get(r, r)) for r in results} | ({original} if original in planned_ids else set())
            if len(targets) >= 2:
                n += 1
                events.append(
                    {
                        "proposal": proposal.pk,
                        "n": n,
                        "kind": "split",
                        "date": when,
                        "original": [int(original)],
                        "resulting": sorted(int(t) for t in targets if t.isdigit()),
                    }
                )
        for result, originals in sorted(back.items()):
            if len(originals) >= 2:
                n += 1
                rid = resolved.get(result, result)
                events.append(
                    {
                        "proposal": proposal.pk,
                        "n": n,
                        "kind": "merge",
                        "date": when,
                        "original": sorted(int(o) for o in originals),
                        "resulting": [int(rid)] if str(rid).isdigit() else [],
                    }
                )
    return [e for e in events if set(e["original"]) & ids or set(e["resulting"]) & ids]


def _resolve_new_ids(proposal: Proposal) -> dict[str, int]:
    """Plan ids of new organizations ("new:...") -> the primary keys they were created with, found through
    the history record the approval wrote for each."""
    reason = f"plan #{proposal.pk} approved"
    out: dict[str, int] = {}
    created = list(
        Organization.history.filter(history_type="+", history_change_reason__startswith=reason).order_by("history_id")
    )
    new_ids = [o["id"] for o in proposal.plan["organizations"] if o["id"].startswith("new:")]
    for plan_id, h in zip(new_ids, created, strict=False):
        out[plan_id] = h.id
    return out


def parse_tree(graph: Graph) -> dict[str, tuple[str | None, str, str]]:
    """{identifier: (parent identifier or None, name, kind)} of every org:Organization in a graph."""
    out = {}
    for node in set(graph.subjects(RDF.type, ORG.Organization)):
        ident = str(graph.value(node, ORG.identifier))
        parent = graph.value(node, ORG.subOrganizationOf)
        parent_id = str(graph.value(parent, ORG.identifier)) if parent is not None else None
        kind = str(graph.value(node, ORG.classification)).rsplit(":", 1)[-1]
        out[ident] = (parent_id, str(graph.value(node, SKOS.prefLabel)), kind)
    return out


def popolo(root: Organization, scope=None) -> dict:
    """The tree under `root` as Popolo JSON: organizations, posts and memberships (people by id only)."""
    from xinye.people.models import Membership

    orgs = subtree(root, scope)
    ids = {o.pk for o in orgs}

    def d(x: date | None) -> str | None:
        return x.isoformat() if x else None

    return {
        "organizations": [
            {
                "id": f"organization/{o.pk}",
                "name": o.name,
                "classification": o.kind,
                "parent_id": f"organization/{o.parent_id}" if o.parent_id in ids else None,
                "founding_date": d(o.founded_on),
                "dissolution_date": d(o.dissolved_on),
                "identifiers": [{"scheme": "xinye", "identifier": str(o.pk)}]
                + [{"scheme": "business_unit", "identifier": bu.key} for bu in o.business_units.all()],
                "area_id": f"division/{o.division.code}" if o.division_id else None,
            }
            for o in orgs
        ],
        "posts": [
            {
                "id": f"post/{p.pk}",
                "label": p.get_role_display(),
                "role": p.role,
                "organization_id": f"organization/{p.organization_id}",
                "start_date": d(p.start_date),
                "end_date": d(p.end_date),
            }
            for o in orgs
            for p in o.posts.all()
        ],
        "memberships": [
            {
                "id": f"membership/{m.pk}",
                "person_id": f"person/{m.person_id}",
                "organization_id": f"organization/{m.organization_id}",
                "role": m.status,
                "label": m.get_status_display(),
                "start_date": d(m.since),
                "end_date": d(m.until),
            }
            for m in Membership.objects.filter(organization_id__in=ids, until__isnull=True)
            .filter(processable_q("person__"))
            .order_by("pk")
        ],
    }
