# Open311 clients (keys stored as SHA-256 only).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0002_builtin_categories'),
        ('places', '0002_redundant_fk_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='Open311Client',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('key_prefix', models.CharField(editable=False, max_length=12, verbose_name='key starts with')),
                ('key_digest', models.CharField(editable=False, max_length=64, unique=True)),
                ('hourly_limit', models.PositiveIntegerField(default=60, verbose_name='cases an hour at most')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='issued')),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last used')),
                ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='revoked')),
                ('window_started_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('window_count', models.PositiveIntegerField(default=0, editable=False)),
                ('community', models.ForeignKey(limit_choices_to={'kind': 'community'}, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='places.place', verbose_name='community')),
            ],
            options={
                'verbose_name': 'Open311 client',
                'verbose_name_plural': 'Open311 clients',
                'ordering': ['-created_at'],
            },
        ),
    ]
