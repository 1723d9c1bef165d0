"""Demands: intake (anonymous, on behalf, photos, rate limit), routing, the workflow with its events,
optimistic concurrency, escalation with a frozen clock, merging, rating, anonymity and scope. Issue #6."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from xinye.accounts.models import Role, RoleKind
from xinye.demands import services
from xinye.demands.models import (
    OPEN_STATUSES,
    BodyKind,
    Category,
    Demand,
    DemandEvent,
    DemandStatus,
    LiaisonPair,
    ResponsibleBody,
    RoutingRule,
)
from xinye.organizations.models import Organization
from xinye.people.models import Membership, Person
from xinye.places.models import Division, Level

pytestmark = pytest.mark.django_db
S = DemandStatus


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()


def _community():
    """A community with a community-based branch under a street committee (made once per test)."""
    org = Organization.objects.filter(anchor_kind="community", parent__isnull=False).order_by("pk").first()
    if org is None:
        community = Division.objects.filter(level=Level.COMMUNITY, lat__isnull=False).order_by("code").first()
        street = Organization.objects.create(
            name=f"{community.parent.name}新业态联合党委",
            kind="committee",
            anchor_kind="community",
            division=community.parent,
        )
        org = Organization.objects.create(
            parent=street,
            name=f"{community.name}快递员党支部",
            kind="branch",
            anchor_kind="community",
            community=community,
            division=community,
        )
    return org.community, org


def _png(exif: bool = False) -> bytes:
    im = Image.new("RGB", (40, 30), (200, 30, 30))
    buf = io.BytesIO()
    if exif:
        e = Image.Exif()
        e[0x010F] = "PhoneMaker"  # Make
        im.save(buf, format="JPEG", exif=e.tobytes())
    else:
        im.save(buf, format="PNG")
    return buf.getvalue()


def _submit(client, **over):
    community, _org = _community()
    data = {
        "submit": "1",
        "category": "pay",
        "description": "三个月的奖励没有发",
        "street": community.parent.code,
        "community": community.code,
    }
    data.update(over)
    return client.post("/demands/new/", data)


def test_an_anonymous_worker_submits_from_a_phone_and_follows_it_with_the_code(client):
    response = _submit(
        client, photos=[SimpleUploadedFile("p.jpg", _png(exif=True), "image/jpeg")], lat="22.54321", lon="114.05678"
    )
    assert response.status_code == 302
    d = Demand.objects.latest("pk")
    assert response["Location"] == "/demands/tracked/"  # the code is never in an address (issue 10)
    assert len(d.tracking_code) == 10 and d.anonymous and d.person is None and d.hide_from_platform
    assert (d.lat, d.lon) == (22.543, 114.057)  # a work area, not a position
    assert d.organization is not None and d.due_at - d.created_at == dt.timedelta(days=3)
    photo = d.attachments.get()
    with Image.open(photo.file.open("rb")) as im:
        assert im.format == "JPEG" and not im.getexif()  # the metadata was removed
    page = client.get(response["Location"])
    assert page.status_code == 200 and d.tracking_code in page.content.decode()
    assert 'data-status="submitted"' in page.content.decode()
    assert client.post("/demands/track/", {"code": "AAAAAAAAAA"}).status_code == 404


def test_bad_input_and_bad_files_get_clear_errors_and_nothing_is_kept(client):
    before = Demand.objects.count()
    assert _submit(client, description="").status_code == 400
    bad = _submit(client, photos=[SimpleUploadedFile("virus.exe", b"MZ\x90\x00 not an image")])
    assert bad.status_code == 400 and "virus.exe: not a JPEG, PNG or WebP photo" in bad.content.decode()
    big = _submit(client, photos=[SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 1))])
    assert big.status_code == 400 and "big.png：超过 5 MB" in big.content.decode()  # refused before it is read
    assert Demand.objects.count() == before


def test_anonymous_intake_is_rate_limited(client):
    before = Demand.objects.count()
    for _ in range(services_limit()):
        assert _submit(client).status_code == 302
    assert _submit(client).status_code == 429
    assert Demand.objects.count() == before + services_limit()


def services_limit():
    from xinye.common.ratelimit import rate_setting

    return rate_setting("demand_anon").count


def test_routing_by_category_to_a_body_and_by_default_to_the_community_organization():
    community, org = _community()
    district = Division.objects.get(code=community.code[:6])
    hr = ResponsibleBody.objects.create(name="区人社局", kind=BodyKind.HR_OFFICE, division=district)
    city = ResponsibleBody.objects.create(name="市人社局", kind=BodyKind.HR_OFFICE, division=district.parent)
    RoutingRule.objects.create(category=Category.objects.get(code="social_insurance_injury"), body=city)
    RoutingRule.objects.create(
        category=Category.objects.get(code="social_insurance_injury"), body=hr, division=district
    )
    d = services.demand_submit(
        category=Category.objects.get(code="social_insurance_injury"), description="工伤认定", community=community
    )
    assert d.body == hr  # the most specific area wins
    assert d.organization == org
    other = services.demand_submit(category=Category.objects.get(code="other"), description="x", community=community)
    assert other.body is None and other.organization == org  # no rule: the community's organization


def test_a_members_worker_goes_to_the_members_branch():
    m = Membership.objects.filter(until__isnull=True, floating=False).select_related("person", "organization").first()
    worker = Person.objects.filter(memberships__isnull=True, work_community__isnull=False).first()
    LiaisonPair.objects.create(member=m.person, worker=worker, since=dt.date(2026, 1, 1))
    d = services.demand_submit(
        category=Category.objects.get(code="pay"), description="x", person=worker, community=worker.work_community
    )
    assert d.organization == m.organization and d.person == worker


def _demand(**kw):
    community, _org = _community()
    return services.demand_submit(
        category=Category.objects.get(code="pay"), description="拖欠报酬", community=community, **kw
    )


def test_the_workflow_by_handler_and_submitter_with_every_event(login, client):
    d = _demand()
    handler = login("organizer")
    for to in ("accepted", "in_progress", "resolved"):
        r = handler.post(
            f"/demands/{d.pk}/", {"action": to, "version": Demand.objects.get(pk=d.pk).version, "note": f"to {to}"}
        )
        assert r.status_code == 302, r.content.decode()[-800:]
    d.refresh_from_db()
    assert d.status == S.RESOLVED and d.resolved_at is not None
    # the handler cannot jump back; a rejection needs a reason
    r = handler.post(f"/demands/{d.pk}/", {"action": "accepted", "version": d.version})
    assert r.status_code == 409
    client.logout()
    assert client.post("/demands/track/", {"code": d.tracking_code})["Location"] == "/demands/tracked/"
    page = client.post("/demands/tracked/", {"action": "reopened", "version": d.version, "note": "还是没发"})
    assert page.status_code == 302
    d.refresh_from_db()
    assert d.status == S.REOPENED and d.resolved_at is None
    services.demand_transition(d, to=S.RESOLVED, version=d.version, note="已发放")
    d.refresh_from_db()
    client.post("/demands/tracked/", {"action": "closed", "version": d.version})
    client.post("/demands/tracked/", {"action": "rate", "rating": "4", "note": "及时"})
    d.refresh_from_db()
    assert d.status == S.CLOSED and d.rating == 4
    kinds = [(e.kind, e.to_status) for e in d.events.all()]
    assert kinds[0] == ("submitted", "submitted")
    statuses = [to for k, to in kinds if k == "status"]
    assert statuses == ["accepted", "in_progress", "resolved", "reopened", "resolved", "closed"]
    assert kinds[-1][0] == "rated"
    with pytest.raises(services.DemandError):
        services.demand_rate(d, rating=5)
    with pytest.raises(services.DemandError, match="why"):
        services.demand_transition(_demand(), to=S.REJECTED, version=1)


def test_two_people_changing_one_demand_one_wins_and_the_other_is_told(login):
    d = _demand()
    a = login("organizer")
    version = d.version
    assert a.post(f"/demands/{d.pk}/", {"action": "accepted", "version": version}).status_code == 302
    late = a.post(f"/demands/{d.pk}/", {"action": "rejected", "version": version, "note": "不属于本单位受理范围"})
    assert late.status_code == 409
    body = late.content.decode()
    assert "data-conflict" in body and "不属于本单位受理范围" in body  # the loser's note is given back
    d.refresh_from_db()
    assert d.status == S.ACCEPTED and d.events.filter(kind="status").count() == 1


def test_escalation_with_a_frozen_clock_goes_up_the_tree_and_again():
    community, org = _community()
    t0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    d = services.demand_submit(category=Category.objects.get(code="pay"), description="x", community=community, now=t0)
    assert d.due_at == t0 + dt.timedelta(days=3)
    assert services.demands_escalate(now=t0 + dt.timedelta(days=3)) == 0  # due, not yet late
    assert services.demands_escalate(now=t0 + dt.timedelta(days=3, seconds=1)) == 1
    d.refresh_from_db()
    assert d.organization == org.parent and d.escalation_level == 1
    assert d.due_at == t0 + dt.timedelta(days=6, seconds=1)
    assert services.demands_escalate(now=t0 + dt.timedelta(days=4)) == 0  # a fresh period for the new handler
    services.demands_escalate(now=t0 + dt.timedelta(days=7))
    d.refresh_from_db()
    assert d.escalation_level == 2 and d.organization == (org.parent.parent or org.parent)
    notes = list(d.events.filter(kind="escalated").values_list("note", flat=True))
    assert len(notes) == 2 and "已上报至" in notes[0]  # written in the deployment language (issue 16)
    # a resolved demand does not escalate
    services.demand_transition(d, to=S.ACCEPTED, version=d.version)
    d.refresh_from_db()
    services.demand_transition(d, to=S.RESOLVED, version=d.version)
    assert services.demands_escalate(now=t0 + dt.timedelta(days=30)) == 0


def test_similar_demands_merge_into_a_collective_demand(login):
    ds = [_demand() for _ in range(3)]
    client = login("organizer")
    r = client.post("/demands/bulk/", {"action": "merge", "ids": [d.pk for d in ds], **{f"v{d.pk}": 1 for d in ds}})
    assert r.status_code == 302
    collective = Demand.objects.get(collective=True, merged=ds[0])  # the demo has collective demands too
    for d in ds:
        d.refresh_from_db()
        assert d.status == S.DUPLICATE and d.merged_into == collective
        assert d.events.filter(kind="merged").exists()
    assert all(d.reference in collective.description for d in ds)
    client.post("/demands/track/", {"code": ds[0].tracking_code})
    page = client.get("/demands/tracked/").content.decode()
    # the submitter follows the collective demand (read-only) without getting its tracking code
    assert f'data-collective-status="{collective.status}"' in page and collective.tracking_code not in page
    client.post("/demands/track/", {"code": collective.tracking_code})
    assert 'name="action"' not in client.get("/demands/tracked/").content.decode()
    queue = client.get(f"/demands/?status=all&q={collective.pk}").content.decode()  # the queue is paged
    assert collective.reference in queue and collective.tracking_code not in queue  # handlers see numbers only


def _staff_with_platform_contact():
    """The demo user "staff" (organization staff of a platform company) also handles the body of that company."""
    role = Role.objects.get(user__username="staff", kind=RoleKind.ORG_STAFF)
    return role.user, role.organization.company


def test_the_platform_never_sees_a_hidden_identity(login):
    user, company = _staff_with_platform_contact()
    community, _org = _community()
    worker = Person.objects.filter(memberships__isnull=True).exclude(phone="").first()
    body = ResponsibleBody.objects.create(
        name=f"{company.name} 骑手关怀", kind=BodyKind.PLATFORM, division=community.parent.parent, company=company
    )
    body.handlers.add(user)
    RoutingRule.objects.create(category=Category.objects.get(code="deactivation_penalties"), body=body)
    hidden = services.demand_submit(
        category=Category.objects.get(code="deactivation_penalties"),
        description="封号",
        person=worker,
        community=community,
        company=company,
        hide_from_platform=True,
    )
    shown = services.demand_submit(
        category=Category.objects.get(code="deactivation_penalties"),
        description="罚款",
        person=worker,
        community=community,
        company=company,
    )
    staff = login("staff")
    for d in (hidden, shown):
        page = staff.get(f"/demands/{d.pk}/")
        assert page.status_code == 200
    hidden_page = staff.get(f"/demands/{hidden.pk}/").content.decode()
    assert worker.name not in hidden_page and worker.phone[-4:] not in hidden_page
    assert worker.name in staff.get(f"/demands/{shown.pk}/").content.decode()
    queue = staff.get("/demands/").content.decode()
    assert hidden.reference in queue and worker.name not in queue
    organizer_page = login("organizer").get(f"/demands/{hidden.pk}/").content.decode()
    assert worker.name in organizer_page


def test_scope_a_secretary_of_another_branch_and_a_stranger_get_404(login, client):
    community, org = _community()
    d = _demand()
    secretary = Role.objects.get(user__username="secretary", kind=RoleKind.SECRETARY).organization
    inside = d.organization_id in set(secretary.descendants(include_self=True).values_list("pk", flat=True))
    status = login("secretary").get(f"/demands/{d.pk}/").status_code
    assert status == (200 if inside else 404)
    assert login("member").get(f"/demands/{d.pk}/").status_code == 404
    assert login("operator").get("/demands/").status_code == 404


def test_the_statistics_give_counts_and_median_time_to_resolution(login):
    t0 = timezone.now() - dt.timedelta(days=10)
    community, _org = _community()
    Category.objects.create(code="street_lights", name_en="Street lights", name_zh="路灯", order=99)
    for hours in (10, 20, 60):
        d = services.demand_submit(
            category=Category.objects.get(code="street_lights"), description="x", community=community, now=t0
        )
        services.demand_transition(d, to=S.ACCEPTED, version=d.version, now=t0)
        d.refresh_from_db()
        services.demand_transition(d, to=S.RESOLVED, version=d.version, now=t0 + dt.timedelta(hours=hours))
    services.demand_submit(
        category=Category.objects.get(code="street_lights"), description="open one", community=community, now=t0
    )
    page = login("organizer").get("/demands/stats/").content.decode()
    row = page[page.find('data-category="street_lights"') :]
    row = row[: row.find("</tr>")]
    assert "<td>4</td><td>1</td><td>1</td><td>3</td><td>20.0</td>" in row


def test_the_escalate_command():
    from django.core.management import call_command

    d = _demand()
    Demand.objects.filter(pk=d.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    # the demo leaves some demands overdue (issue 16): they are escalated with this one
    late = Demand.objects.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now()).count()
    assert late >= 1
    out = io.StringIO()
    call_command("demands", "escalate", stdout=out)
    assert f"{late} overdue demand(s) escalated" in out.getvalue()
    assert DemandEvent.objects.filter(demand=d, kind="escalated").count() == 1
    assert Division.objects.filter(level=Level.COMMUNITY).exists()


def test_administrators_edit_categories_bodies_and_rules_as_data(login):
    client = login("admin")
    for url in ("/admin/demands/category/", "/admin/demands/responsiblebody/", "/admin/demands/responsiblebody/add/"):
        assert client.get(url).status_code == 200, url
    assert login("organizer").get("/admin/demands/category/").status_code == 302  # not staff: to the login
