"""Validators only (no change to the tables): a borrower's ID number is a Chinese resident ID with its check
digit right, and a consent, payment, plan agreement or instalment payment lies from 2000-01-01 to five minutes
from now (`audit.bounds`)."""

import audit.bounds
import collections_app.models.accounts
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('collections_app', '0019_policy_bounds'),
    ]

    operations = [
        migrations.AlterField(
            model_name='borrower',
            name='id_number',
            field=models.CharField(blank=True, max_length=32, validators=[collections_app.models.accounts.resident_id_validator], verbose_name='ID number'),
        ),
        migrations.AlterField(
            model_name='contact',
            name='consent_at',
            field=models.DateTimeField(blank=True, null=True, validators=[audit.bounds.reported_moment_validator], verbose_name='consent recorded at'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='paid_at',
            field=models.DateTimeField(validators=[audit.bounds.reported_moment_validator], verbose_name='paid at'),
        ),
        migrations.AlterField(
            model_name='planinstalment',
            name='paid_at',
            field=models.DateTimeField(blank=True, null=True, validators=[audit.bounds.reported_moment_validator], verbose_name='paid at'),
        ),
        migrations.AlterField(
            model_name='repaymentplan',
            name='agreed_at',
            field=models.DateTimeField(validators=[audit.bounds.reported_moment_validator], verbose_name='agreed at'),
        ),
    ]
