from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("routing", "0005_dashboard_indexes")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="claim_token",
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
