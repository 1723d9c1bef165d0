"""Demo demands for a city: responsible bodies, routing rules and a month of demands in every state.
Deterministic for a seed; built through the services, so every demand has its full history."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.utils import timezone

from . import services
from .models import BodyKind, Category, DemandStatus, ResponsibleBody, RoutingRule

TEXTS = {
    "working_environment": [
        "商圈附近找不到能歇脚的地方，夏天中午太热",
        "写字楼不让骑手进电梯，只能爬楼",
        "小区门口不让电动车进，送餐要走很远",
    ],
    "pay": ["上个月的冲单奖励一直没到账", "配送费计算和说明不一致，少了十几单", "站点押金离职后一直没退"],
    "deactivation_penalties": [
        "因为系统定位错误被判超时罚款",
        "账号无故被封三天，申诉没有回复",
        "顾客恶意差评，平台直接扣分",
    ],
    "social_insurance_injury": [
        "送餐路上摔伤，不知道职业伤害保障怎么申请",
        "想交社保，不知道灵活就业怎么参保",
        "工伤认定需要哪些材料",
    ],
    "traffic_safety": [
        "这个路口红绿灯时间太短，电动车经常被夹在中间",
        "快递车停放点被取消，只能停在路边被罚",
        "夜间路灯坏了，骑车不安全",
    ],
    "rest_stations": [
        "驿站晚上十点就关门，夜班骑手没地方充电",
        "希望驿站增加微波炉",
        "附近没有驿站，最近的要骑二十分钟",
    ],
    "vocational_skills": ["想考电工证，有没有免费培训", "希望有驾驶技能提升培训", "想学电商运营，有没有夜校"],
    "other": ["孩子入学需要居住证明，怎么办理", "想加入工会，去哪里报名", "希望组织骑手篮球赛"],
}


REJECTIONS = [
    "不属于本站点受理范围，已告知向劳动保障监察部门反映",
    "反映内容与事实不符，经核实平台已按规则结算",
]
#: how the demand's story goes, by the draw `fate` in [0, 1): the share of each end state is about
#: submitted 18 %, rejected 7 %, accepted 15 %, in progress 15 %, resolved 25 %, closed 20 % (before merging,
#: reopening and escalation change some of them)
FATES = ((0.18, ()), (0.25, ("rejected",)), (0.40, ("accepted",)), (0.55, ("accepted", "in_progress")))


def demo_demands(
    *, city, companies, people, staff_user, seed: int, count: int = 120, now=None, handler=None, focus=()
) -> int:
    """Bodies, rules and `count` demands over the last 30 days for `city` (a Division), in every state:
    waiting, accepted, in progress, resolved and rated, closed, rejected with a reason, reopened by the worker,
    merged into a collective demand, overdue and escalated. `focus`: workers who submit about a quarter of them
    (the demo secretary's branch's workers, so that branch has demands to see through); `handler`: the user
    who merges. Returns the number of demands (collective ones included)."""
    rng = np.random.default_rng(seed + 311)
    now = now or timezone.now()
    hr = ResponsibleBody.objects.create(name=f"{city.name}人力资源和社会保障局", kind=BodyKind.HR_OFFICE, division=city)
    union = ResponsibleBody.objects.create(name=f"{city.name}总工会", kind=BodyKind.UNION, division=city)
    cats = {c.code: c for c in Category.objects.all()}
    for code, body in (("social_insurance_injury", hr), ("pay", union), ("vocational_skills", union)):
        RoutingRule.objects.create(category=cats[code], body=body)
    platforms = [c for c in companies if c.is_platform][:4]
    for company in platforms:
        body = ResponsibleBody.objects.create(
            name=f"{company.name}骑手关怀中心", kind=BodyKind.PLATFORM, division=city, company=company
        )
        if staff_user is not None and staff_user.roles.filter(organization__company=company).exists():
            body.handlers.add(staff_user)
        RoutingRule.objects.create(category=cats["deactivation_penalties"], body=body)
    workers = [p for p in people if p.work_community_id is not None]
    focus = [p for p in focus if p.work_community_id is not None]
    codes = list(TEXTS)
    weights = np.array([3, 4, 3, 2, 2, 3, 1, 1], dtype=float)
    made = []
    for i in range(count):
        code = codes[rng.choice(len(codes), p=weights / weights.sum())]
        pool = focus if focus and rng.random() < 0.25 else workers
        worker = pool[int(rng.integers(len(pool)))]
        anonymous = rng.random() < 0.3
        company = platforms[int(rng.integers(len(platforms)))] if platforms and rng.random() < 0.6 else None
        t = now - dt.timedelta(hours=float(rng.uniform(1, 30 * 24)))
        d = services.demand_submit(
            category=cats[code],
            description=TEXTS[code][i % len(TEXTS[code])],
            person=None if anonymous else worker,
            anonymous=anonymous,
            hide_from_platform=bool(rng.random() < 0.5),
            company=company,
            community=worker.work_community,
            now=t,
        )
        fate = rng.random()
        path = next((p for limit, p in FATES if fate < limit), ("accepted", "in_progress", "resolved"))
        if fate > 0.8:
            path = (*path, "closed")
        steps = []
        for to in path:
            if to == "rejected":
                steps.append((DemandStatus.REJECTED, 0.5, REJECTIONS[i % len(REJECTIONS)]))
            elif to == "accepted":
                steps.append((DemandStatus.ACCEPTED, 0.2, "已受理"))
            elif to == "in_progress":
                steps.append((DemandStatus.IN_PROGRESS, 0.6, "已联系相关单位"))
            elif to == "resolved":
                steps.append((DemandStatus.RESOLVED, float(rng.uniform(0.8, 5)), "已协调解决"))
            else:
                steps.append((DemandStatus.CLOSED, 0.5, ""))
        at = t
        for to, days, note in steps:
            at = at + dt.timedelta(days=days)
            if at > now:
                break
            d.refresh_from_db()
            services.demand_transition(
                d, to=to, version=d.version, note=note, submitter=to == DemandStatus.CLOSED, now=at
            )
        d.refresh_from_db()
        if d.status in (DemandStatus.RESOLVED, DemandStatus.CLOSED) and rng.random() < 0.6:
            services.demand_rate(d, rating=int(rng.integers(3, 6)), now=at)
        elif d.status == DemandStatus.RESOLVED and at + dt.timedelta(days=1) < now and rng.random() < 0.25:
            # the worker says it is not solved after all
            services.demand_transition(
                d,
                to=DemandStatus.REOPENED,
                version=d.version,
                note="问题没有解决，又出现了",
                submitter=True,
                now=at + dt.timedelta(days=1),
            )
        made.append(d)
    # similar demands from one place become one collective demand (the handler merges them)
    merged = 0
    groups: dict[tuple, list] = {}
    for d in made:
        d.refresh_from_db()
        if d.status in services.MERGEABLE and d.community_id:
            groups.setdefault((d.category_id, d.community.code[:6]), []).append(d)
    for key in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        if merged >= 2 or len(groups[key]) < 2:
            break
        services.demand_merge(groups[key][:3], actor=handler, now=now - dt.timedelta(hours=2))
        merged += 1
    # escalation runs every few minutes; the demo's last run was two days ago, so some are overdue right now
    services.demands_escalate(now=now - dt.timedelta(days=2))
    return count + merged
