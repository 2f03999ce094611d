import importlib
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Loads the demo data of every app (its `demo.seed()`); safe to run again."

    def handle(self, *args: object, **options: object) -> None:
        for app_config in apps.get_app_configs():
            module_name = f"{app_config.name}.demo"
            if find_spec(module_name) is None:
                continue
            seed = importlib.import_module(module_name).seed
            with transaction.atomic():
                created = seed()
            summary = ", ".join(created) if created else "nothing new"
            self.stdout.write(f"{app_config.label}: {summary}")
