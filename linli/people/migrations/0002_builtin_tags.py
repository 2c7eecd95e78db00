"""The managed list of care tags as shipped (names are translated on display)."""

from django.db import migrations

TAGS = [
    ("living_alone", "独居", False, 10),
    ("empty_nest", "空巢", False, 20),
    ("veteran", "退役军人", False, 30),
    ("party_member", "党员", False, 40),
    ("disabled", "残疾", True, 50),
    ("chronic_illness", "长期服药", True, 60),
    ("pregnant", "孕产妇", True, 70),
    ("hardship", "困难", True, 80),
    ("key_attention", "重点关注", True, 90),
]


def add(apps, schema_editor):
    CareTag = apps.get_model("people", "CareTag")
    for code, name, sensitive, order in TAGS:
        CareTag.objects.get_or_create(
            code=code, defaults={"name": name, "sensitive": sensitive, "order": order}
        )


def remove(apps, schema_editor):
    apps.get_model("people", "CareTag").objects.filter(code__in=[t[0] for t in TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
