"""A borrower's ID number, when given, is a Chinese resident ID with its check digit right (a validator: no
change to the table)."""

import collections_app.models.accounts
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('collections_app', '0012_policy_bounds'),
    ]

    operations = [
        migrations.AlterField(
            model_name='borrower',
            name='id_number',
            field=models.CharField(blank=True, max_length=32, validators=[collections_app.models.accounts.resident_id_validator], verbose_name='ID number'),
        ),
    ]
