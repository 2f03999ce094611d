# The dashboard's deliveries list pages newest first by (created_at, id), filtered or not by
# status, and its metrics and topology count deliveries created in a time range: without these
# indexes each of those sorts or scans every delivery.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0005_awscredential'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(fields=['created_at', 'id'], name='delivery_created'),
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(fields=['status', 'created_at', 'id'],
                               name='delivery_status_created'),
        ),
    ]
