from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


def _ensure_default_bus(sender: AppConfig, **kwargs: Any) -> None:
    # After every migrate and flush, like contenttypes: the default bus always exists.
    from routing.services.buses import bus_ensure_default

    bus_ensure_default()


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Event routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from routing.checks import claim_lease_outlasts_task_time_limit

        post_migrate.connect(_ensure_default_bus, sender=self)
        checks.register(claim_lease_outlasts_task_time_limit)
