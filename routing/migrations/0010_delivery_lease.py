from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0011_scheduler"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
