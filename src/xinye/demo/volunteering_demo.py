"""The demo's volunteering story (issue 14, item 8): posts, teams, and past and future activities with
check-ins and hours, around the demo secretary's branch and the demo operator's station.

- the branch's Party-member volunteer team, led by the secretary, with the demo member and others of the
  branch, and two workers who joined it; a station team led by the demo member;
- a vanguard post held by the demo member at the station, and a model post held by the station team;
- a weekly traffic-safety patrol over the past weeks: check-ins by code and by hand, check-outs, so the
  volunteers have recorded hours (one volunteer checked in and never out: no hours);
- station duty next week, one shift full with someone on the waiting list, and a civility campaign in a
  community the week after;
- hours and points (`demo_hours_and_points`): the patrols' recorded hours, those of the two older weeks
  reviewed by the station's operator (approved, earning points, and one declined with a reason), last week's
  still pending; hours awarded by the secretary, pending; and points redeemed at the station by its
  operator, so "My hours", "My points", the certificate, the review list and the station's redeem page all
  show something.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from xinye.accounts.models import Role
from xinye.places.models import Level
from xinye.stations.models import Station


def volunteering_story(*, today: dt.date, seed: int = 1) -> dict:
    from xinye.people.models import Membership, Person
    from xinye.volunteering.models import (
        Activity,
        ActivityKind,
        Attendance,
        CheckMethod,
        PostKind,
        Shift,
        Signup,
        SignupStatus,
        Team,
        TeamMembership,
        TeamMembershipStatus,
        VanguardPost,
    )
    from xinye.volunteering.services import _place_division, _record

    secretary_role = Role.objects.filter(user__username="secretary").select_related("organization").first()
    operator_role = Role.objects.filter(user__username="operator").first()
    if secretary_role is None or secretary_role.organization is None:
        return {"teams": 0, "activities": 0, "attendances": 0}
    branch = secretary_role.organization
    secretary = Person.objects.filter(user__username="secretary").first()
    member = Person.objects.filter(user__username="member").first()
    colleagues = list(
        Person.objects.filter(memberships__organization=branch, memberships__until__isnull=True)
        .exclude(pk__in=[p.pk for p in (secretary, member) if p])
        .order_by("pk")[:6]
    )
    station = (
        Station.objects.filter(operator_name=operator_role.operator_name).order_by("pk").first()
        if operator_role
        else None
    ) or Station.objects.order_by("pk").first()
    community = station.division if station and station.division_id else None  # a station's division is its community
    if community is not None and community.level != Level.COMMUNITY:
        community = None
    workers = list(
        Person.objects.filter(work_community=community, memberships__isnull=True).order_by("pk")[:2]
        if community
        else []
    )
    now = timezone.now()
    tz = timezone.get_current_timezone()

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)

    def team(name: str, leader, people, **place) -> Team:
        t = Team.objects.create(name=name, division=_place_division(**place), description="", **place)
        for p in [leader, *people]:
            if p is None:
                continue
            TeamMembership.objects.create(
                team=t,
                person=p,
                status=TeamMembershipStatus.APPROVED,
                leader=p is leader,
                requested_at=now - dt.timedelta(days=120),
                decided_at=now - dt.timedelta(days=119),
            )
        return t

    branch_team = team(f"{branch.name.removeprefix('中共')}党员志愿服务队", secretary, [member, *colleagues, *workers],
                       organization=branch)  # fmt: skip
    teams = [branch_team]
    if station is not None:
        station_team = team(f"{station.name}志愿服务队", member or secretary, colleagues[:3], station=station)
        teams.append(station_team)
        if member is not None:
            VanguardPost.objects.create(
                kind=PostKind.VANGUARD,
                title="党员先锋岗",
                person=member,
                station=station,
                division=_place_division(station=station),
                duty="每天午高峰在驿站门口提醒骑手安全驾驶、规范停车，帮助新骑手熟悉片区",
                starts_on=today - dt.timedelta(days=180),
            )
        VanguardPost.objects.create(
            kind=PostKind.MODEL,
            title="驿站值守示范岗",
            team=station_team,
            station=station,
            division=_place_division(station=station),
            duty="驿站开放时间内轮流值守：热水、充电和急救包随时可用",
            starts_on=today - dt.timedelta(days=90),
        )
    place = {"station": station} if station is not None else {"community": community}
    patrol = Activity.objects.create(
        title="午高峰交通安全劝导",
        kind=ActivityKind.SAFETY_PATROL,
        description="在驿站附近的路口劝导逆行、闯红灯，提醒佩戴头盔。",
        address="驿站东侧路口",
        division=_place_division(**place),
        team=branch_team,
        organization=branch,
        **place,
    )
    volunteers = [p for p in [secretary, member, *colleagues[:4], *workers[:1]] if p]
    attendances = 0
    for week in (3, 2, 1):
        day = today - dt.timedelta(days=7 * week)
        shift = Shift.objects.create(activity=patrol, starts_at=at(day, 11), ends_at=at(day, 13), capacity=8)
        for k, p in enumerate(volunteers):
            Signup.objects.create(shift=shift, person=p, status=SignupStatus.CONFIRMED)
            if (week + k) % 5 == 0:
                continue  # signed up and did not come
            by_hand = (week + k) % 4 == 0
            att = Attendance(
                shift=shift,
                person=p,
                checked_in_at=at(day, 11, (k * 3) % 15),
                check_in_method=CheckMethod.MANUAL if by_hand else CheckMethod.CODE,
                check_in_reason="手机没电，由队长登记" if by_hand else "",
            )
            if not (week == 1 and k == len(volunteers) - 1):  # one left without checking out: no hours
                att.checked_out_at = at(day, 12, 55) if k % 3 else at(day, 12, 10)
                att.check_out_method = CheckMethod.CODE
            _record(att, shift)
            att.save()
            attendances += 1
    activities = [patrol]
    if station is not None:
        duty = Activity.objects.create(
            title="驿站值守",
            kind=ActivityKind.STATION_DUTY,
            description="帮助来驿站休息的骑手和司机：热水、充电、急救包、找路。",
            division=_place_division(station=station),
            team=teams[-1],
            station=station,
        )
        activities.append(duty)
        for offset in (7, 8):
            day = today + dt.timedelta(days=offset)
            shift = Shift.objects.create(activity=duty, starts_at=at(day, 18), ends_at=at(day, 21), capacity=2)
            for k, p in enumerate(volunteers[:3] if offset == 7 else volunteers[3:4]):
                status = SignupStatus.CONFIRMED if k < shift.capacity else SignupStatus.WAITLISTED
                Signup.objects.create(shift=shift, person=p, status=status)
    if community is not None:
        civility = Activity.objects.create(
            title="社区文明劝导：电动车规范停放",
            kind=ActivityKind.CIVILITY,
            description="和社区一起劝导电动车规范停放、不进楼道充电。",
            address="社区党群服务中心门口",
            division=community,
            team=branch_team,
            community=community,
        )
        activities.append(civility)
        day = today + dt.timedelta(days=14)
        shift = Shift.objects.create(activity=civility, starts_at=at(day, 9), ends_at=at(day, 11), capacity=10)
        for p in volunteers[:2]:
            Signup.objects.create(shift=shift, person=p, status=SignupStatus.CONFIRMED)
    # members who served are in touch (issue 12, item 6)
    latest = today - dt.timedelta(days=7)
    served = Attendance.objects.filter(counted=True).values_list("person_id", flat=True)
    Membership.objects.filter(person_id__in=served, until__isnull=True, last_contact_on__lt=latest).update(
        last_contact_on=latest
    )
    done = demo_hours_and_points(
        patrol=patrol, station=station, secretary=secretary, member=member, workers=workers, today=today
    )
    return {"teams": len(teams), "activities": len(activities), "attendances": attendances, **done}


def demo_hours_and_points(*, patrol, station, secretary, member, workers, today: dt.date) -> dict:
    """Recorded hours of the patrols, reviewed and turned into points, some redeemed at the station; all through
    the services (`volunteering.hours`), at the times they would have happened, so history reads as if real."""
    from django.contrib.auth import get_user_model

    from xinye.accounts import policy
    from xinye.accounts.scope import scope_for
    from xinye.volunteering import hours, passes
    from xinye.volunteering.models import Attendance, HoursStatus
    from xinye.volunteering.services import Refused

    tz = timezone.get_current_timezone()
    for att in Attendance.objects.filter(shift__activity=patrol).select_related("shift").order_by("pk"):
        hours.hours_sync(att)
    operator = get_user_model().objects.filter(username="operator").first()
    reviewer = scope_for(operator) if operator is not None else None
    if reviewer is None or not policy.may_run_activity(reviewer, patrol):
        return {"approved_hours": 0, "redemptions": 0}
    approved = 0
    last_week = today - dt.timedelta(days=7)
    helper = next(iter(workers), None) or member
    keep = {p.pk for p in (member, helper, secretary) if p is not None}  # their hours are approved
    declined = False
    records = list(patrol.hours.filter(status=HoursStatus.PENDING).order_by("starts_at", "pk"))
    for k, rec in enumerate(records):
        day = timezone.localtime(rec.starts_at).date()
        if day >= last_week:
            continue  # last week's hours wait for review
        when = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(20, k % 50), tzinfo=tz)
        decline = not declined and rec.person_id not in keep
        declined = declined or decline
        hours.hours_review(
            scope=reviewer, actor=operator, record=rec, approve=not decline, now=when,
            note="签退时间与现场登记不一致，请队长核实后补录" if decline else "",
        )  # fmt: skip
        approved += not decline
    # the secretary awards half an hour of setting up before last week's patrol to a worker (pending)
    if secretary is not None and secretary.user is not None and helper is not None:
        start = dt.datetime.combine(last_week, dt.time(10, 25), tzinfo=tz)
        try:
            hours.hours_award(
                scope=scope_for(secretary.user), actor=secretary.user, activity=patrol, person=helper,
                starts_at=start, ends_at=start + dt.timedelta(minutes=30), reason="提前到场摆放警示锥和宣传展板",
            )  # fmt: skip
        except Refused:
            pass  # the demo's week had other hours at that time: nothing to award
    redemptions = 0
    for k, person in enumerate(p for p in (member, helper) if p is not None):
        balance = hours.points_balance(person.pk)
        if balance < 2 or station is None:
            continue
        when = dt.datetime.combine(today - dt.timedelta(days=3 - k), dt.time(19, 10 + k), tzinfo=tz)
        token = passes.token_for(person.pk, passes.window_of(when))
        hours.points_redeem(
            scope=reviewer, actor=operator, station=station, code=token, points=balance // 2, now=when,
            note="兑换矿泉水和充电宝租用券" if k == 0 else "兑换一次免费头盔清洁",
        )  # fmt: skip
        redemptions += 1
    return {"approved_hours": approved, "redemptions": redemptions}
