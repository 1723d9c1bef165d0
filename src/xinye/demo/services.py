"""Build the demo city in the database from the generator's plain records."""

from __future__ import annotations

from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from faker import Faker
from simple_history.utils import bulk_create_with_history

from xinye.accounts.models import Role, RoleKind
from xinye.algorithms.membership import add_months
from xinye.common.errors import InputError, RowError
from xinye.common.progress import ProgressCallback, no_progress
from xinye.demands.demo import demo_demands
from xinye.demands.models import Contact, Demand, LiaisonPair, LiaisonQuota, ResponsibleBody, RoutingRule
from xinye.organizations.models import BusinessUnit, BusinessVersion, Company, Organization, Post
from xinye.people.models import ConsentRecord, Membership, Person
from xinye.places import services as places_services
from xinye.places.models import Division, Level
from xinye.stations.models import Station
from xinye.stations.selectors import stations_changed

from . import generator, stories
from .models import DemoRun

DEMO_PASSWORD = "xinye-demo-2026"
CONSENT_SCOPE = gettext_noop(
    "Stored: name, phone, occupation, platforms, work community and a coarse work cell (no GPS track). "
    "Seen by: the community's organizer and the branch that keeps in touch with you; phone masked to others."
)


def demo_exists(*, city: str) -> DemoRun | None:
    return DemoRun.objects.filter(city_code=city).order_by("-created_at").first()


@transaction.atomic
def demo_build(
    *, city: str, workers: int, seed: int, progress: ProgressCallback = no_progress, today: date | None = None
) -> DemoRun:
    """Build a demo city on the real divisions of `city` (4-digit code). One transaction: all or nothing."""
    if not (city.isdigit() and len(city) == 4):
        raise InputError(
            [RowError("--city", None, None, city, "a city code has 4 digits, e.g. 4403")],
            summary=f"bad city code {city!r}",
        )
    if workers < 100:
        raise InputError(
            [RowError("--workers", None, None, workers, "at least 100 workers")],
            summary="too few workers for a demo city",
        )
    if demo_exists(city=city):
        raise InputError(
            [RowError("--city", None, None, city, "a demo of this city exists; use --reset")],
            summary="demo already built",
        )
    today = today or timezone.localdate()
    if not Division.objects.filter(code=city).exists():
        places_services.division_import(code=city, progress=progress)
    places_services.divisions_place_randomly(codes=[city], seed=seed)
    progress("communities placed", 1, 1)

    city_div = Division.objects.get(code=city)
    counties = {d.code: d.name for d in Division.objects.filter(level=Level.COUNTY, code__startswith=city)}
    comms = [
        generator.Community(
            d.code, d.name, d.parent.code, d.parent.parent_id and d.code[:6], d.lat, d.lon, d.parent.name
        )
        for d in Division.objects.filter(
            level=Level.COMMUNITY, code__startswith=city, lat__isnull=False
        ).select_related("parent")
    ]
    c = generator.generate_city(
        city_code=city,
        city_name=city_div.name,
        county_names=counties,
        communities=comms,
        workers=workers,
        seed=seed,
        today=today,
        home_places=stories.home_places(exclude_province=city[:2]),
    )
    progress("generated", 1, 1)
    divisions = {d.code: d for d in Division.objects.filter(code__startswith=city)}

    companies = {}
    for rec in c.companies:
        companies[rec["key"]] = Company(
            name=rec["name"],
            short_name=rec["short_name"],
            kind=rec["kind"],
            is_platform=rec["is_platform"],
            division=divisions.get(rec["division"]),
        )
    bulk_create_with_history(list(companies.values()), Company, default_change_reason="demo")
    companies = {k: Company.objects.get(name=v.name) for k, v in companies.items()}
    for comp in companies.values():
        BusinessVersion.objects.create(company=comp, number=1, effective_on=today, note="demo import")

    units: dict[str, BusinessUnit] = {}
    for u in c.units:  # parents come before children in the generator's order
        units[u.key] = BusinessUnit.objects.create(
            parent=units.get(u.parent) if u.parent else None,
            company=companies[u.company],
            key=u.key,
            name=u.name,
            kind=u.kind,
            division=divisions.get(u.division) if u.division else None,
            valid_from=today,
        )
    versions = stories.business_history(companies=companies, today=today)
    progress("companies and business units", len(c.units), len(c.units))

    people = [
        Person(
            name=w.name,
            phone=w.phone,
            occupation=w.occupation,
            employer=companies[w.employer] if w.employer else None,
            business_unit=units.get(w.unit) if w.unit else None,
            work_community=divisions[w.community],
            work_cell=w.work_cell,
            union_name=w.union_name,
            union_since=w.union_since,
        )
        for w in c.workers
    ]
    batch = 5000
    created: list[Person] = []
    for i in range(0, len(people), batch):
        created += bulk_create_with_history(
            people[i : i + batch], Person, batch_size=batch, default_change_reason="demo"
        )
        progress("workers", min(i + batch, len(people)), len(people))
    people = list(Person.objects.order_by("id"))[-len(c.workers) :]
    through = Person.platforms.through
    links = [through(person_id=people[w.idx].id, company_id=companies[k].id) for w in c.workers for k in w.platforms]
    through.objects.bulk_create(links, batch_size=5000)
    given = timezone.make_aware(datetime.combine(today, time(9, 0)))
    # a consent keeps the text the worker read, in the deployment's language
    with translation.override(settings.LANGUAGE_CODE):
        scope_text = gettext(CONSENT_SCOPE)
    consents = [
        ConsentRecord(
            person=p, purpose="registration with the community", scope=scope_text, channel="demo", given_at=given
        )
        for p in people
    ]
    for i in range(0, len(consents), batch):
        bulk_create_with_history(consents[i : i + batch], ConsentRecord, batch_size=batch, default_change_reason="demo")
        progress("consent records", min(i + batch, len(consents)), len(consents))

    orgs: dict[str, Organization] = {}
    for o in c.orgs:
        org = Organization.objects.create(
            parent=orgs.get(o.parent) if o.parent else None,
            name=o.name,
            kind=o.kind,
            anchor_kind=o.anchor_kind,
            company=companies.get(o.company) if o.company else None,
            community=divisions.get(o.community) if o.community else None,
            division=divisions.get(o.division) if o.division else None,
            founded_on=o.founded_on,
            term_years=o.term_years,
            term_started_on=o.term_started_on,
            term_ends_on=o.term_ends_on,
        )
        if o.units:
            org.business_units.set([units[k] for k in o.units])
        orgs[o.key] = org
        for widx, role in o.posts:
            Post.objects.create(organization=org, person=people[widx], role=role, start_date=o.term_started_on or today)
    org_story = stories.organization_history(orgs=orgs, today=today, seed=seed)
    progress("organizations", len(c.orgs), len(c.orgs))

    memberships = [
        Membership(
            person=people[m.worker],
            organization=orgs.get(m.org) if m.org else None,
            status=m.status,
            joined_on=m.joined_on,
            floating=m.floating,
            home_organization=m.home_organization,
            home_place=m.home_place,
            since=max(m.joined_on, today.replace(year=today.year - 3)),
            last_contact_on=m.last_contact_on,
            certificate_until=add_months(max(m.joined_on, today.replace(year=today.year - 3)), 12)
            if m.floating
            else None,
        )
        for m in c.members
    ]
    bulk_create_with_history(memberships, Membership, batch_size=2000, default_change_reason="demo")
    progress("members", len(memberships), len(memberships))

    stations = [
        Station(
            name=s.name,
            kind=s.kind,
            operator_name=s.operator_name,
            operator_company=companies.get(s.operator_company) if s.operator_company else None,
            lat=s.lat,
            lon=s.lon,
            h3_cell=s.h3_cell,
            division=divisions[s.community],
            amenities=s.amenities,
            opening_hours=s.opening_hours,
            capacity=s.capacity,
            contact_phone=s.contact_phone,
            verified_on=s.verified_on,
            address=s.address,
        )
        for s in c.stations
    ]
    bulk_create_with_history(stations, Station, batch_size=2000, default_change_reason="demo")
    stations_changed()  # bulk_create sends no signals: tell the finders
    progress("service stations", len(stations), len(stations))

    liaisons = stories.liaison_story(city=city_div, today=today, seed=seed)
    progress("liaisons", liaisons["pairs"], liaisons["pairs"])
    logins = _demo_users(city_div=city_div, orgs=orgs, c=c, people=people, stations=stations)
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 503)
    reports = stories.report_story(
        city=city_div,
        people=people,
        seed=seed,
        fake_names=[fake.name() for _ in range(12)],
        phones=[fake.phone_number() for _ in range(12)],
    )
    progress("reports to communities", reports["pending"], reports["pending"])
    User = get_user_model()
    secretary_org = Role.objects.filter(user__username="secretary").values_list("organization_id", flat=True).first()
    focus = (
        Person.objects.filter(
            liaisons__until__isnull=True,
            liaisons__member__memberships__organization_id=secretary_org,
            liaisons__member__memberships__until__isnull=True,
        )
        .distinct()
        .order_by("pk")
    )
    demands = demo_demands(
        city=city_div,
        companies=list(companies.values()),
        people=people,
        staff_user=User.objects.filter(username="staff").first(),
        seed=seed,
        now=timezone.make_aware(datetime.combine(today, time(17, 0))) if today != timezone.localdate() else None,
        handler=User.objects.filter(username="organizer").first(),
        focus=list(focus.select_related("work_community")),
    )
    progress("demands", demands, demands)
    from .volunteering_demo import volunteering_story

    volunteering = volunteering_story(today=today, seed=seed)
    progress("volunteer activities", volunteering["activities"], volunteering["activities"])
    summary = {
        "companies": len(companies),
        "business_units": len(units),
        "workers": len(people),
        "members": len(memberships),
        "organizations": len(orgs),
        "stations": len(stations),
        "demands": demands,
        "logins": logins,
        "imperfections": c.notes,
        "stories": {
            "business_versions": versions,
            "organizations": org_story,
            "liaisons": liaisons,
            "reports": reports,
            "volunteering": volunteering,
        },
    }
    from xinye.organizations.lines import link_upward

    link_upward(division=city_div, reason="demo")  # one tree from each district's department down
    return DemoRun.objects.create(city_code=city, workers=workers, seed=seed, summary=summary)


def _demo_users(*, city_div, orgs, c, people, stations) -> list[dict]:
    """One login per role, each scoped as a real user would be."""
    User = get_user_model()
    logins = []

    def make(username: str, label: str, **role) -> None:
        user = User.objects.filter(username=username).first() or User(username=username)
        user.set_password(DEMO_PASSWORD)
        user.is_staff = role.get("kind") == RoleKind.ADMIN
        user.is_superuser = role.get("kind") == RoleKind.ADMIN
        user.save()
        Role.objects.filter(user=user).delete()
        Role.objects.create(user=user, **role)
        logins.append({"username": username, "password": DEMO_PASSWORD, "role": label})

    make("admin", "administrator", kind=RoleKind.ADMIN)
    make("organizer", f"organizer, {city_div.name}", kind=RoleKind.ORGANIZER, division=city_div)
    district = Division.objects.filter(level=Level.COUNTY, code__startswith=city_div.code).order_by("code").last()
    make("district", f"organizer, {district.name}", kind=RoleKind.ORGANIZER, division=district)
    committee = next(o for k, o in orgs.items() if o.kind == "committee")
    make("staff", f"organization staff, {committee.name}", kind=RoleKind.ORG_STAFF, organization=committee)
    branch = next(o for o in orgs.values() if o.kind == "branch" and o.posts.exists())
    post = branch.posts.filter(role="secretary").first()
    make("secretary", f"branch secretary, {branch.name}", kind=RoleKind.SECRETARY, organization=branch)
    if post:
        post.person.user = User.objects.get(username="secretary")
        post.person.save(update_fields=["user"])
    others = branch.memberships.exclude(person=post.person if post else None).order_by("pk")
    # the demo member keeps in touch with workers (the liaison assignment gave them some)
    member = others.filter(person__liaison_workers__until__isnull=True).distinct().first() or others.first()
    make("member", f"member, {branch.name}", kind=RoleKind.MEMBER, organization=branch)
    if member:
        member.person.user = User.objects.get(username="member")
        member.person.save(update_fields=["user"])
    op = stations[0].operator_name
    make("operator", f"station operator, {op}", kind=RoleKind.STATION_OPERATOR, operator_name=op)
    return logins


@transaction.atomic
def demo_reset() -> None:
    """Delete everything the demo built (people, organizations, companies, stations, demo users);
    divisions stay."""
    from xinye.people.models import CommunityReport, ConsentRecord
    from xinye.volunteering.models import Activity, Team, VanguardPost

    VanguardPost.objects.all().delete()
    Activity.objects.all().delete()
    Team.objects.all().delete()  # their memberships, activities, shifts and sign-ups go with them
    for model in (Demand, RoutingRule, ResponsibleBody, LiaisonPair, Contact, LiaisonQuota, CommunityReport):
        model.objects.all().delete()
    Post.objects.all().delete()
    Membership.objects.all().delete()
    ConsentRecord.objects.all().delete()
    Role.objects.all().delete()
    Person.objects.all().delete()
    Station.objects.all().delete()
    BusinessUnit.objects.update(merged_into=None)  # merged units point at others (PROTECT); all go below
    for model in (Organization, BusinessUnit):
        # children first: PROTECT on parent
        while model.objects.exists():
            model.objects.filter(children__isnull=True).delete()
    BusinessVersion.objects.all().delete()
    Company.objects.all().delete()
    get_user_model().objects.filter(
        username__in=["admin", "organizer", "district", "staff", "secretary", "member", "operator"]
    ).delete()
    DemoRun.objects.all().delete()
