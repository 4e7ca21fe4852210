"""Carrier polling (issue 17): why the last poll failed and when polling gave up, on the
tracked shipment; and a carrier's event taken once per shipment (a unique index on the
partitioned events table, holding the partition key as every unique index there must)."""

import django.db.models.fields.json
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0003_device_key_lookup'),
    ]

    operations = [
        migrations.AddField(
            model_name='trackedshipment',
            name='poll_error',
            field=models.CharField(blank=True, help_text='The last failed poll, as the carrier said.', max_length=300),
        ),
        migrations.AddField(
            model_name='trackedshipment',
            name='poll_error_code',
            field=models.CharField(blank=True, choices=[('unavailable', 'Carrier unavailable'), ('rate_limited', 'Rate limited'), ('unknown_number', 'Number unknown to the carrier'), ('rejected', 'Refused by the carrier')], max_length=16),
        ),
        migrations.AddField(
            model_name='trackedshipment',
            name='poll_stopped_at',
            field=models.DateTimeField(blank=True, help_text='Polling gave up: the carrier kept refusing the number.', null=True),
        ),
        migrations.AddConstraint(
            model_name='trackingevent',
            constraint=models.UniqueConstraint(models.F('shipment_id'), django.db.models.fields.json.KeyTextTransform('carrier_event_id', 'metadata'), models.F('occurred_at'), condition=models.Q(('source', 'carrier_api')), name='tracking_event_carrier_event_unique'),
        ),
    ]
