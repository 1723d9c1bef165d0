"""A synthetic but realistic city of platform workers, built on real divisions. Plain data, no Django.

The generator takes the city's communities (code, name, street, county, lat, lon) and returns plain
records; `xinye.demo.services` writes them. Every random choice comes from one numpy Generator and
one Faker instance seeded with `seed`, in a fixed order, so the same inputs give the same city.

Shape of the city (figures from docs/domain.md):
- platform companies of each kind, each with a business architecture
  headquarters -> business line -> region -> city -> station / fleet / park;
- workers: riders and couriers around communities, ride-hailing drivers in fleets of car-rental
  companies, truck drivers at logistics parks; some on two platforms; some in a union;
- about 2 % members (formal or probationary; some floating, held elsewhere);
- an organization tree that is realistically imperfect: an oversize branch, stations with >= 3 formal
  members and no branch, a committee whose term has expired;
- service stations with amenities and opening hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from faker import Faker

from xinye.algorithms import geo
from xinye.common.text import short_place

WORK_CELL_RESOLUTION = 8
STATION_CELL_RESOLUTION = 9

OCCUPATION_SHARES = {"delivery_rider": 0.45, "courier": 0.30, "ride_hailing_driver": 0.18, "truck_driver": 0.07}
MEMBER_SHARE = 0.02
OVERSIZE_BRANCH_MEMBERS = 55

# Fictional companies: (key, name, short name, kind)
PLATFORMS = [
    ("FD1", "{city}快马外卖科技有限公司", "快马外卖", "food_delivery", "外卖事业部"),
    ("FD2", "{city}美食送网络科技有限公司", "美食送", "food_delivery", "即时配送事业部"),
    ("EX1", "顺通速运有限公司{city}分公司", "顺通速运", "express", "快递事业部"),
    ("EX2", "云达快递有限公司{city}分公司", "云达快递", "express", "网点事业部"),
    ("RH1", "安行出行科技有限公司", "安行出行", "ride_hailing", "网约车事业部"),
    ("RH2", "畅途打车网络有限公司", "畅途打车", "ride_hailing", "出行事业部"),
    ("FR1", "货运通物流科技有限公司", "货运通", "freight", "同城货运事业部"),
]
FLEETS = [
    ("CR1", "{city}鹏程汽车租赁有限公司", "鹏程租车", "car_rental"),
    ("CR2", "{city}万顺汽车服务有限公司", "万顺汽车", "car_rental"),
    ("CR3", "{city}宏达运力管理有限公司", "宏达运力", "car_rental"),
]
STANDARD_AMENITIES = ["seats", "toilet", "water", "microwave", "charging", "air_conditioning", "first_aid"]
EXTENDED_AMENITIES = ["battery_swap", "shower", "washing_machine", "wifi", "legal_aid", "meals", "medicine"]
OPENING_HOURS = [
    ("24/7", 0.15),
    ("Mo-Su 08:00-22:00", 0.30),
    ("Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00", 0.20),
    ("Mo-Su 07:00-23:00", 0.20),
    ("Mo-Su 10:00-02:00", 0.10),
    ("Mo-Sa 08:30-20:30; PH off", 0.05),
]


@dataclass
class Community:
    code: str
    name: str
    street: str
    county: str
    lat: float
    lon: float
    street_name: str = ""


@dataclass
class Unit:
    key: str
    company: str
    parent: str | None
    name: str
    kind: str
    division: str | None = None  # street or county code
    lat: float | None = None
    lon: float | None = None


@dataclass
class Worker:
    idx: int
    name: str
    phone: str
    occupation: str
    platforms: list[str]
    employer: str | None
    unit: str | None
    community: str
    work_cell: int
    union_name: str = ""
    union_since: date | None = None


@dataclass
class Member:
    worker: int
    status: str
    joined_on: date
    floating: bool
    home_organization: str = ""
    home_place: str = ""
    org: str | None = None  # key of the organization the member belongs to
    last_contact_on: date | None = None


@dataclass
class Org:
    key: str
    parent: str | None
    name: str
    kind: str
    anchor_kind: str
    company: str | None
    units: list[str] = field(default_factory=list)
    community: str | None = None
    division: str | None = None
    founded_on: date | None = None
    term_years: int = 3
    term_started_on: date | None = None
    term_ends_on: date | None = None
    posts: list[tuple[int, str]] = field(default_factory=list)  # (worker idx, role)


@dataclass
class Station:
    name: str
    kind: str
    operator_name: str
    operator_company: str | None
    lat: float
    lon: float
    h3_cell: int
    community: str
    amenities: list[str]
    opening_hours: str
    capacity: int
    contact_phone: str
    verified_on: date
    address: str = ""


@dataclass
class City:
    companies: list[dict]
    units: list[Unit]
    workers: list[Worker]
    members: list[Member]
    orgs: list[Org]
    stations: list[Station]
    notes: dict = field(default_factory=dict)


def generate_city(
    *,
    city_code: str,
    city_name: str,
    county_names: dict[str, str],
    communities: list[Community],
    workers: int,
    seed: int,
    today: date,
    home_places: list[str] | None = None,
) -> City:
    """`home_places`: real places elsewhere in the country ("湖南省邵阳市隆回县") where floating members' own
    branches are; without them the city's own districts are used."""
    if not communities:
        raise ValueError(f"city {city_code} has no located communities")
    rng = np.random.default_rng(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    short_city = city_name.removesuffix("市")
    communities = sorted(communities, key=lambda c: c.code)
    by_street: dict[str, list[Community]] = defaultdict(list)
    for c in communities:
        by_street[c.street].append(c)
    streets = sorted(by_street)
    counties = sorted({c.county for c in communities})
    street_names = {c.street: _short_street(c.street_name) for c in communities if c.street_name}

    companies: list[dict] = []
    units: list[Unit] = []
    station_units: dict[str, list[Unit]] = defaultdict(list)  # company key -> its stations/fleets/parks

    def add_unit(u: Unit) -> Unit:
        units.append(u)
        return u

    def street_centre(street: str) -> tuple[float, float]:
        cs = by_street[street]
        return float(np.mean([c.lat for c in cs])), float(np.mean([c.lon for c in cs]))

    for key, name, short, kind, line in PLATFORMS:
        companies.append(
            {
                "key": key,
                "name": name.format(city=short_city),
                "short_name": short,
                "kind": kind,
                "is_platform": True,
                "division": city_code,
            }
        )
        hq = add_unit(Unit(f"{key}-HQ", key, None, f"{short}总部", "headquarters"))
        bl = add_unit(Unit(f"{key}-BL", key, hq.key, f"{short}{line}", "business_line"))
        rg = add_unit(Unit(f"{key}-RG", key, bl.key, f"{short}华南大区", "region"))
        ct = add_unit(Unit(f"{key}-{city_code}", key, rg.key, f"{short}{short_city}城市公司", "city", city_code))
        if kind in ("food_delivery", "express"):
            # riders and couriers work from a station serving one to three streets
            per = 2 if kind == "food_delivery" else 1
            for i in range(0, len(streets), per):
                group = streets[i : i + per]
                s = group[0]
                lat, lon = street_centre(s)
                sname = street_names.get(s) or short_place(by_street[s][0].name)
                station_units[key].append(
                    add_unit(
                        Unit(f"{key}-ST{i // per + 1:03d}", key, ct.key, f"{short}{sname}站", "station", s, lat, lon)
                    )
                )
        elif kind == "freight":
            for i, county in enumerate(counties[: max(2, len(counties) // 3)]):
                station_units[key].append(
                    add_unit(
                        Unit(
                            f"{key}-PK{i + 1:02d}",
                            key,
                            ct.key,
                            f"{short}{county_names.get(county, county)}物流园",
                            "park",
                            county,
                        )
                    )
                )
    for key, name, short, kind in FLEETS:
        companies.append(
            {
                "key": key,
                "name": name.format(city=short_city),
                "short_name": short,
                "kind": kind,
                "is_platform": False,
                "division": city_code,
            }
        )
        hq = add_unit(Unit(f"{key}-HQ", key, None, f"{short}总部", "headquarters"))
        for i, county in enumerate(counties):
            if rng.random() < 0.6 or i == 0:
                station_units[key].append(
                    add_unit(
                        Unit(
                            f"{key}-FL{i + 1:02d}",
                            key,
                            hq.key,
                            f"{short}{county_names.get(county, county)}车队",
                            "fleet",
                            county,
                        )
                    )
                )

    # ride-hailing drivers belong to a fleet of a car-rental company (its own business tree holds them) and
    # drive for one or more platforms; the platforms lead the rental companies' organizations (the policy's
    # "platform -> rental company -> fleet" route), so a driver is counted once, in their fleet
    fleet_employer: dict[str, str] = {}
    for ckey, _cname, _cshort, _ckind in FLEETS:
        for fleet in station_units[ckey]:
            fleet_employer[fleet.key] = ckey
    rental_fleets = [u for ckey, *_ in FLEETS for u in station_units[ckey]]

    # ---- workers
    occ_names = list(OCCUPATION_SHARES)
    occ = rng.choice(len(occ_names), size=workers, p=list(OCCUPATION_SHARES.values()))
    platform_keys = {
        k: [p[0] for p in PLATFORMS if p[3] == k] for k in ("food_delivery", "express", "ride_hailing", "freight")
    }
    out_workers: list[Worker] = []
    for i in range(workers):
        o = occ_names[occ[i]]
        platforms: list[str]
        employer = None
        if o in ("delivery_rider", "courier"):
            kind = "food_delivery" if o == "delivery_rider" else "express"
            primary = platform_keys[kind][int(rng.integers(len(platform_keys[kind])))]
            unit = station_units[primary][int(rng.integers(len(station_units[primary])))]
            # work around a community of the station's streets
            local = by_street[unit.division] if unit.division in by_street else communities
            comm = local[int(rng.integers(len(local)))]
            platforms = [primary]
            if rng.random() < 0.2:  # many riders are on two platforms at once
                other = [k for k in platform_keys[kind] if k != primary]
                if other:
                    platforms.append(other[0])
            unit_key = unit.key
        elif o == "ride_hailing_driver":
            primary = platform_keys["ride_hailing"][int(rng.integers(2))]
            platforms = [primary] if rng.random() < 0.7 else list(platform_keys["ride_hailing"])
            fleet = rental_fleets[int(rng.integers(len(rental_fleets)))]
            employer, unit_key = fleet_employer[fleet.key], fleet.key
            comm = communities[int(rng.integers(len(communities)))]
        else:
            primary = platform_keys["freight"][0]
            platforms = [primary]
            park = station_units[primary][int(rng.integers(len(station_units[primary])))]
            unit_key = park.key
            local = [c for c in communities if c.county == park.division] or communities
            comm = local[int(rng.integers(len(local)))]
        jlat, jlon = rng.normal(0.0, 0.004, size=2)
        cell = geo.h3_cell(comm.lat + jlat, comm.lon + jlon, WORK_CELL_RESOLUTION)
        w = Worker(i, fake.name(), fake.phone_number(), o, platforms, employer, unit_key, comm.code, cell)
        if rng.random() < 0.3:
            w.union_name = f"{city_name}{county_names.get(comm.county, '')}总工会"
            w.union_since = today - timedelta(days=int(rng.integers(30, 2000)))
        out_workers.append(w)

    # ---- members: about 2 %, concentrated where the demo needs the structure to be interesting
    n_members = max(3, round(workers * MEMBER_SHARE))
    member_idx = np.sort(rng.choice(workers, size=min(n_members, workers), replace=False))
    # The first food-delivery platform runs a group of its stations as one legacy branch; make sure that
    # branch is over the soft cap of 50 (an "oversize branch") whenever the city has members enough.
    fd1 = station_units[PLATFORMS[0][0]]
    big_units = {u.key for u in fd1[: max(3, len(fd1) // 6)]}
    target = OVERSIZE_BRANCH_MEMBERS if len(member_idx) >= 2 * OVERSIZE_BRANCH_MEMBERS else 0
    in_big = [i for i in member_idx if out_workers[i].unit in big_units]
    if len(in_big) < target:
        chosen = set(member_idx.tolist())
        candidates = [w.idx for w in out_workers if w.unit in big_units and w.idx not in chosen]
        add = rng.choice(candidates, size=min(target - len(in_big), len(candidates)), replace=False)
        removable = [i for i in member_idx.tolist() if out_workers[i].unit not in big_units]
        remove = rng.choice(removable, size=len(add), replace=False)
        member_idx = np.array(sorted((chosen - set(remove.tolist())) | set(add.tolist())))
    members: list[Member] = []
    for i in member_idx:
        status = "formal" if rng.random() < 0.9 else "probationary"
        joined = today - timedelta(days=int(rng.integers(200 if status == "formal" else 30, 8000)))
        floating = bool(rng.random() < 0.25)
        m = Member(int(i), status, joined, floating)
        if floating:
            # a real county elsewhere and a village named after a family, as many are (杨家村, 王家村)
            places = home_places or [f"{city_name}{n}" for _c, n in sorted(county_names.items())] or [city_name]
            m.home_place = places[fake.random_int(0, len(places) - 1)]
            m.home_organization = f"{m.home_place}{fake.last_name()}家村党支部"
        m.last_contact_on = today - timedelta(days=int(rng.integers(0, 300 if rng.random() < 0.95 else 400)))
        members.append(m)

    # ---- existing organizations, realistically imperfect
    orgs: list[Org] = []
    notes: dict = {"oversize_branch": None, "units_without_org": [], "expired_term": None}
    members_by_unit: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        members_by_unit[out_workers[m.worker].unit or ""].append(m)

    def term(started: date, years: int) -> tuple[date, date]:
        return started, date(started.year + years, started.month, min(started.day, 28))

    for key, _name, short, _kind, _line in PLATFORMS:
        if not station_units[key]:
            continue  # a ride-hailing platform's drivers are in the rental companies' fleets
        c_start, c_end = term(today - timedelta(days=int(rng.integers(100, 900))), 3)
        committee = Org(
            f"O-{key}",
            None,
            f"中共{short}{short_city}城市公司委员会",
            "committee",
            "company",
            key,
            units=[f"{key}-{city_code}"],
            division=city_code,
            founded_on=c_start - timedelta(days=700),
            term_started_on=c_start,
            term_ends_on=c_end,
        )
        orgs.append(committee)
        stations = station_units[key]
        if not stations:
            continue
        # the city's largest unit group is run as one oversize branch (a realistic legacy of fast growth)
        big_group = [u for u in stations if u.key in big_units]
        if big_group:
            org = Org(
                f"O-{key}-CITY",
                committee.key,
                f"中共{short}{short_city}配送支部",
                "branch",
                "business_units",
                key,
                units=[u.key for u in big_group],
                division=city_code,
                founded_on=today - timedelta(days=1500),
            )
            orgs.append(org)
            for u in big_group:
                for m in members_by_unit[u.key]:
                    m.org = org.key
            notes["oversize_branch"] = org.key
            rest = [u for u in stations if u.key not in big_units]
        else:
            rest = stations
        small: list[Unit] = []
        for u in rest:
            ms = members_by_unit[u.key]
            formal = [m for m in ms if m.status == "formal"]
            if len(formal) >= 3 and (not notes["units_without_org"] or rng.random() < 0.25):
                notes["units_without_org"].append(u.key)  # members but no branch: the audit should say so
                continue
            if not ms:
                continue
            if len(formal) >= 3:
                b = Org(
                    f"O-{u.key}",
                    committee.key,
                    f"中共{u.name}支部",
                    "branch",
                    "business_units",
                    key,
                    units=[u.key],
                    division=u.division,
                    founded_on=today - timedelta(days=int(rng.integers(90, 2000))),
                )
                orgs.append(b)
                for m in ms:
                    m.org = b.key
            else:
                small.append(u)
        # small units: most are grouped into joint branches of at most five; a few are left unorganized
        for g in range(0, len(small), 5):
            group = small[g : g + 5]
            ms = [m for u in group for m in members_by_unit[u.key]]
            if sum(m.status == "formal" for m in ms) < 3 or rng.random() < 0.2:
                continue
            jb = Org(
                f"O-{key}-J{g // 5 + 1:02d}",
                committee.key,
                f"中共{short}{group[0].name.removeprefix(short)}等站联合支部",
                "joint_branch",
                "business_units",
                key,
                units=[u.key for u in group],
                division=group[0].division,
                founded_on=today - timedelta(days=int(rng.integers(90, 2000))),
            )
            orgs.append(jb)
            for m in ms:
                m.org = jb.key
    # car-rental companies: a branch per fleet with enough formal members, the small fleets in a joint branch,
    # under a general branch at the company when it is big enough (the ride-hailing industry committee leads
    # them, as it leads the platforms: organizations.lines)
    for ckey, _cname, cshort, _ckind in FLEETS:
        fleets = station_units[ckey]
        ms_all = [m for u in fleets for m in members_by_unit[u.key]]
        if not ms_all:
            continue
        own, small = [], []
        for u in fleets:
            ms = members_by_unit[u.key]
            if sum(m.status == "formal" for m in ms) >= 3:
                own.append(u)
            elif ms:
                small.append(u)
        top: str | None = None
        founded = today - timedelta(days=int(rng.integers(200, 1500)))
        if len(ms_all) >= 50 and len(own) >= 2:
            general = Org(
                f"O-{ckey}",
                top,
                f"中共{cshort}总支部",
                "general_branch",
                "business_units",
                ckey,
                units=[f"{ckey}-HQ"],
                division=city_code,
                founded_on=founded,
            )
            orgs.append(general)
            top = general.key
        for u in own:
            b = Org(
                f"O-{u.key}",
                top,
                f"中共{u.name}支部",
                "branch",
                "business_units",
                ckey,
                units=[u.key],
                division=u.division,
                founded_on=founded,
            )
            orgs.append(b)
            for m in members_by_unit[u.key]:
                m.org = b.key
        group = small[:5]
        if sum(m.status == "formal" for u in group for m in members_by_unit[u.key]) >= 3:
            kind = "joint_branch" if len(group) > 1 else "branch"
            jb = Org(
                f"O-{ckey}-J",
                top,
                f"中共{cshort}{'等车队联合' if len(group) > 1 else ''}支部",
                kind,
                "business_units",
                ckey,
                units=[u.key for u in group],
                division=city_code,
                founded_on=founded,
            )
            orgs.append(jb)
            for u in group:
                for m in members_by_unit[u.key]:
                    m.org = jb.key

    # an expired committee term (the first platform committee's term ended months ago)
    expired = orgs[0]
    expired.term_started_on = date(today.year - 4, today.month, min(today.day, 28))
    expired.term_ends_on = date(today.year - 1, today.month, min(today.day, 28))
    notes["expired_term"] = expired.key

    # posts: a secretary for every branch, a deputy where it has 7+ members; committees get a secretary
    members_by_org: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        if m.org:
            members_by_org[m.org].append(m)
    children: dict[str, list[str]] = defaultdict(list)
    for o in orgs:
        if o.parent:
            children[o.parent].append(o.key)

    def formal_below(key: str) -> list[Member]:
        out, stack = [], list(children.get(key, []))
        while stack:
            k = stack.pop()
            out.extend(m for m in members_by_org.get(k, []) if m.status == "formal")
            stack.extend(children.get(k, []))
        return out

    for o in orgs:
        ms = [m for m in members_by_org.get(o.key, []) if m.status == "formal"]
        if o.kind in ("committee", "secondary_committee", "general_branch"):
            # an upper level elects a committee of five (the rule set's figures: 5-7 for a general branch,
            # 5-9 for a committee) from the members it leads
            below = formal_below(o.key)
            if below:
                o.posts.append((below[-1].worker, "secretary"))
                o.posts += [(m.worker, "deputy" if k == 0 else "committee_member") for k, m in enumerate(below[-5:-1])]
        elif ms:
            o.posts.append((ms[0].worker, "secretary"))
            if len(ms) >= 7:
                o.posts.append((ms[1].worker, "deputy"))
                # branches of 7+ formal members elect a committee; one was never elected (an imperfection)
                if notes.get("branch_without_committee") or o.kind != "branch":
                    o.posts.append((ms[2].worker, "committee_member"))
                else:
                    notes["branch_without_committee"] = o.key
        o.term_started_on = o.term_started_on or o.founded_on
        if o.term_ends_on is None and o.term_started_on:
            o.term_ends_on = term(o.term_started_on, o.term_years)[1]
        if o.kind in ("branch", "joint_branch") and o.term_ends_on and o.term_ends_on < today:
            # branches that outlived their first term were re-elected
            o.term_started_on, o.term_ends_on = term(o.term_ends_on, o.term_years)

    # ---- service stations: about one for every 120 workers, most standard amenities, where most workers are
    # but not everywhere: a few clusters of workers are left out of reach (a real network has gaps, and
    # station placement should find them)
    stations = _stations(
        rng=rng,
        fake=fake,
        communities=communities,
        street_names=street_names,
        out_workers=out_workers,
        n_stations=max(5, workers // 120),
        city_name=city_name,
        county_names=county_names,
        today=today,
    )
    notes["station_gaps"] = stations.gaps
    return City(companies, units, out_workers, members, orgs, list(stations), notes)


#: the service radius the coverage page uses by default: 15 minutes by e-bike at 15 km/h, in metres
COVERAGE_RADIUS_M = 3750.0
#: the demo network reaches at most this share of workers (gaps are added until it does) ...
COVERAGE_AT_MOST = 0.78
#: ... and at least this share (a gap that would cut it below is not added)
COVERAGE_AT_LEAST = 0.62
#: the workers within this distance of a gap's centre are left out of reach
GAP_RADIUS_M = 2500.0
HOSTS = ["银行网点", "加油站", "便利店", "邮政支局"]


class _Stations(list):
    gaps: list[str]


def _short_street(name: str) -> str:
    """A street's or town's name without its suffix: 布吉街道 -> 布吉, 观澜镇 -> 观澜."""
    for suffix in ("街道办事处", "街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _distances_m(lat: np.ndarray, lon: np.ndarray, lat0=None, lon0=None) -> np.ndarray:
    """Great-circle (haversine) distances in metres between points given in degrees (WGS-84): pairwise, an
    (n, n) array; or from one point (lat0, lon0), an (n,) array."""
    if lat0 is None:
        return geo.haversine_m_array(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    return geo.haversine_m_array(lat, lon, lat0, lon0)


def _stations(
    *, rng, fake, communities, street_names, out_workers, n_stations, city_name, county_names, today
) -> _Stations:
    """Stations at communities: gaps first (clusters of workers a station may not reach), then a greedy cover
    of the workers that can be reached, then more stations where most workers are (double coverage)."""
    index = {c.code: i for i, c in enumerate(communities)}
    w = np.zeros(len(communities))
    for wk in out_workers:
        w[index[wk.community]] += 1
    lat = np.array([c.lat for c in communities])
    lon = np.array([c.lon for c in communities])
    near = _distances_m(lat, lon) <= COVERAGE_RADIUS_M  # near[i, j]: a station at i reaches workers at j
    total = w.sum() or 1.0
    # "virtual" communities of the statistical codes (an airport, a port zone) get no station
    virtual = np.array(["虚拟" in c.name for c in communities])
    gap = np.zeros(len(communities), dtype=bool)
    allowed = np.ones(len(communities), dtype=bool)
    gaps: list[str] = []
    share = w[near.any(axis=0)].sum() / total
    for seed_i in rng.permutation(len(communities)).tolist():
        if share <= COVERAGE_AT_MOST:
            break
        if w[seed_i] == 0 or gap[seed_i]:
            continue
        d = _distances_m(lat, lon, lat[seed_i], lon[seed_i])
        trial_gap = gap | (d <= GAP_RADIUS_M)
        trial_allowed = ~near[trial_gap].any(axis=0)
        trial_share = w[near[trial_allowed].any(axis=0)].sum() / total
        if trial_share < COVERAGE_AT_LEAST:
            continue
        gap, allowed, share = trial_gap, trial_allowed, trial_share
        gaps.append(communities[seed_i].code)
    # greedy cover of what can be reached, then the rest where the workers are
    uncovered = w.copy()
    sites: list[int] = []
    candidates = np.flatnonzero(allowed & ~virtual)
    while len(sites) < n_stations and len(candidates):
        gain = near[candidates] @ uncovered
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        sites.append(int(candidates[best]))
        uncovered[near[candidates[best]]] = 0
    weight = w[candidates] + 1.0  # every allowed community may get one, the busy ones more often
    while len(sites) < n_stations and len(candidates):
        sites.append(int(candidates[int(rng.choice(len(candidates), p=weight / weight.sum()))]))

    hours, weights = zip(*OPENING_HOURS, strict=True)
    out = _Stations()
    out.gaps = gaps
    used: set[str] = set()
    kinds = ["community_centre", "union", "platform", "host_business"]
    for ci in sites:
        c = communities[ci]
        lat_s = c.lat + float(rng.normal(0.0, 0.002))
        lon_s = c.lon + float(rng.normal(0.0, 0.002))
        kind = kinds[int(rng.choice(4, p=[0.35, 0.35, 0.15, 0.15]))]
        cname = short_place(c.name)
        street = street_names.get(c.street, "")
        county = county_names.get(c.county, "")
        operator_company = None
        host = HOSTS[int(rng.integers(len(HOSTS)))]
        p = PLATFORMS[int(rng.integers(len(PLATFORMS)))]
        if kind == "community_centre":
            operator = f"{cname}社区党委"
            names = [f"{cname}社区党群服务中心暖心驿站", f"{cname}社区户外劳动者服务站", f"{cname}社区新就业群体服务站"]
        elif kind == "union":
            operator = f"{city_name}{county}总工会"
            names = [f"{cname}工会户外劳动者服务站", f"{street or cname}街道工会户外劳动者服务站", f"{cname}爱心驿站"]
        elif kind == "platform":
            operator_company, operator = p[0], p[2]
            names = [f"{p[2]}{street or cname}骑手之家", f"{p[2]}{cname}骑手之家", f"{p[2]}{cname}小哥驿站"]
        else:
            operator = f"{fake.company_prefix()}{host}"
            names = [f"{street or cname}{host}暖心驿站", f"{cname}{host}爱心驿站", f"{cname}{host}户外劳动者服务站"]
        name = next((n for n in names if n not in used), "")
        if not name:
            continue  # this community has every kind of station already
        used.add(name)
        amen = [a for a in STANDARD_AMENITIES if rng.random() < 0.8] or ["water"]
        amen += [a for a in EXTENDED_AMENITIES if rng.random() < 0.15]
        oh = hours[int(rng.choice(len(hours), p=np.array(weights) / sum(weights)))]
        out.append(
            Station(
                name,
                kind,
                operator,
                operator_company,
                lat_s,
                lon_s,
                geo.h3_cell(lat_s, lon_s, STATION_CELL_RESOLUTION),
                c.code,
                amen,
                oh,
                int(rng.integers(4, 40)),
                fake.phone_number(),
                # most were checked this year; a few are overdue for a check (a to-do for their operator)
                today - timedelta(days=int(rng.integers(0, 480))),
                _address(name, county, street, cname),
            )
        )
    return out


def _address(name: str, county: str, street: str, community: str) -> str:
    """A plausible street address for a demo station ("宝安区沙井街道万丰东路128号"), the same for the same
    station every time (drawn from its name, so the demo's other draws do not move)."""
    import random

    r = random.Random(name)
    road = f"{community}{r.choice('东西南北中')}路" if r.random() < 0.6 else f"{street or community}大道"
    where = f"{county}{street}街道" if street else county
    return f"{where}{road}{r.randint(1, 399)}号" + (f"{r.randint(1, 30)}栋一楼" if r.random() < 0.3 else "")
