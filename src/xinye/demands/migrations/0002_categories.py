"""The standard categories of demands (issue #6). They are data: add, rename or retire them in the admin."""

from django.db import migrations

CATEGORIES = [
    (
        "working_environment",
        "环境",
        "劳动环境",
        "Working environment",
        "休息、用餐、防暑防寒、如厕等条件",
        "Rest, meals, heat and cold, toilets",
        3,
    ),
    (
        "pay",
        "权益",
        "劳动报酬",
        "Pay",
        "报酬计算、拖欠、抽成",
        "How pay is computed, late or missing pay, commissions",
        3,
    ),
    (
        "deactivation_penalties",
        "权益",
        "平台封号与罚款",
        "Deactivation or penalties by a platform",
        "账号被封、罚款、差评申诉",
        "Account blocked, fines, appeals against ratings",
        3,
    ),
    (
        "social_insurance_injury",
        "权益",
        "社会保险与职业伤害",
        "Social insurance and occupational injury",
        "参保、职业伤害保障、工伤认定",
        "Insurance enrolment, occupational injury cover, injury claims",
        3,
    ),
    (
        "traffic_safety",
        "环境",
        "交通与安全",
        "Traffic and safety",
        "道路隐患、交通管理、人身安全",
        "Road hazards, traffic rules, personal safety",
        3,
    ),
    (
        "rest_stations",
        "环境",
        "休息与驿站",
        "Rest and stations",
        "驿站设施、开放时间、新建站点",
        "Station amenities, opening hours, new stations",
        3,
    ),
    (
        "vocational_skills",
        "技能",
        "职业技能",
        "Vocational skills",
        "技能培训、证书、职业发展",
        "Training, certificates, career",
        7,
    ),
    ("other", "其他", "其他", "Other", "", "", 3),
]


def add(apps, schema_editor):
    Category = apps.get_model("demands", "Category")
    for order, (code, group, zh, en, dzh, den, days) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code,
            defaults={
                "group": group,
                "name_zh": zh,
                "name_en": en,
                "description_zh": dzh,
                "description_en": den,
                "due_days": days,
                "order": order,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("demands", "Category").objects.filter(code__in=[c[0] for c in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
