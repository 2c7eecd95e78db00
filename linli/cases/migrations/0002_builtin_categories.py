"""The category tree as shipped, with its deadlines (names are translated on display)."""

from django.db import migrations

# (code, parent code, stored name, answer within hours, resolve within days)
CATEGORIES = [
    ("environment", "", "环境卫生", 24, 3),
    ("rubbish", "environment", "垃圾分类与清运", 12, 2),
    ("greenery", "environment", "绿化", 24, 7),
    ("repairs", "", "设施维修", 24, 7),
    ("lift", "repairs", "电梯", 4, 3),
    ("lighting", "repairs", "照明", 24, 5),
    ("leak", "repairs", "漏水", 12, 5),
    ("property", "", "物业服务", 24, 7),
    ("parking", "property", "停车", 24, 7),
    ("neighbours", "", "邻里纠纷", 24, 10),
    ("noise", "neighbours", "噪音", 24, 7),
    ("safety", "", "治安安全", 2, 3),
    ("fire", "safety", "消防隐患", 2, 2),
    ("care", "", "养老助残", 12, 7),
    ("policy", "", "政策咨询", 24, 5),
    ("suggestion", "", "意见建议", 48, 15),
    ("other", "", "其他", 24, 7),
]


def add(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    made = {}
    for order, (code, parent, name, hours, days) in enumerate(CATEGORIES, start=1):
        made[code], _created = Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": made.get(parent),
                "response_hours": hours,
                "resolve_days": days,
                "order": order * 10,
            },
        )


def remove(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    codes = [c[0] for c in CATEGORIES]
    Category.objects.filter(code__in=codes, parent__isnull=False).delete()
    Category.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
