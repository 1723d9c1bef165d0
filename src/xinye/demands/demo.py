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


def demo_demands(*, city, companies, people, staff_user, seed: int, count: int = 120, now=None) -> int:
    """Bodies, rules and `count` demands over the last 30 days for `city` (a Division); returns the count."""
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
    codes = list(TEXTS)
    weights = np.array([3, 4, 3, 2, 2, 3, 1, 1], dtype=float)
    for i in range(count):
        code = codes[rng.choice(len(codes), p=weights / weights.sum())]
        worker = workers[int(rng.integers(len(workers)))]
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
        steps = []
        if fate > 0.25:
            steps.append((DemandStatus.ACCEPTED, 0.2, "已受理"))
        if fate > 0.4:
            steps.append((DemandStatus.IN_PROGRESS, 0.6, "已联系相关单位"))
        if fate > 0.55:
            steps.append((DemandStatus.RESOLVED, float(rng.uniform(0.8, 5)), "已协调解决"))
        if fate > 0.8:
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
    services.demands_escalate(now=now)
    return count
