"""Each case gets a public id for Open311, apart from its tracking code (the resident's secret),
and categories get attributes (Open311 service attributes) whose answers are kept on the case.

Existing cases are given a random public id in batches; their tracking codes do not change. The
migration is not atomic, so that each batch commits on its own (a district has millions of
cases) instead of holding one long transaction.
"""

import secrets

from django.db import migrations, models, transaction

BATCH = 5000


def fill_public_ids(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    while True:
        batch = list(Case.objects.filter(public_id__isnull=True).only("pk")[:BATCH])
        if not batch:
            return
        for case in batch:
            # 16 hex digits, drawn apart from the tracking code: one never leads to the other.
            case.public_id = secrets.token_hex(8)
        with transaction.atomic():
            Case.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0004_inbox_and_rates_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="public_id",
            field=models.CharField(
                editable=False, max_length=16, null=True, verbose_name="public id"
            ),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, atomic=False),
        migrations.AlterField(
            model_name="case",
            name="public_id",
            field=models.CharField(
                editable=False, max_length=16, unique=True, verbose_name="public id"
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="attributes",
            field=models.JSONField(blank=True, default=dict, verbose_name="details given"),
        ),
        migrations.CreateModel(
            name="CategoryAttribute",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=40, verbose_name="code")),
                ("description", models.CharField(max_length=200, verbose_name="question")),
                (
                    "datatype",
                    models.CharField(
                        choices=[
                            ("string", "Short text"),
                            ("number", "Number"),
                            ("datetime", "Date and time"),
                            ("text", "Long text"),
                            ("singlevaluelist", "One choice from a list"),
                            ("multivaluelist", "Several choices from a list"),
                        ],
                        default="string",
                        max_length=16,
                        verbose_name="kind of answer",
                    ),
                ),
                (
                    "variable",
                    models.BooleanField(
                        default=True,
                        help_text="Off: only a remark shown to whoever files, with no answer.",
                        verbose_name="asks for an answer",
                    ),
                ),
                ("required", models.BooleanField(default=False, verbose_name="required")),
                (
                    "datatype_description",
                    models.CharField(blank=True, max_length=200, verbose_name="how to answer"),
                ),
                ("order", models.PositiveSmallIntegerField(default=1, verbose_name="order")),
                (
                    "category",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE,
                        related_name="attributes",
                        to="cases.category",
                        verbose_name="category",
                    ),
                ),
            ],
            options={
                "verbose_name": "category attribute",
                "verbose_name_plural": "category attributes",
                "ordering": ["category", "order", "code"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("category", "code"), name="attribute_code_once"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AttributeValue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.SlugField(max_length=40, verbose_name="key")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("order", models.PositiveSmallIntegerField(default=1, verbose_name="order")),
                (
                    "attribute",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE,
                        related_name="values",
                        to="cases.categoryattribute",
                        verbose_name="attribute",
                    ),
                ),
            ],
            options={
                "verbose_name": "choice",
                "verbose_name_plural": "choices",
                "ordering": ["attribute", "order", "key"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("attribute", "key"), name="attribute_value_once"
                    )
                ],
            },
        ),
    ]
