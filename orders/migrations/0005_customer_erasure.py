from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0004_customer_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="erased_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
