"""Demo accounts for `make run`. Each app may add its own demo data in `<app>/demo.py: seed()`."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from orders.permissions import BARISTAS_GROUP


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    is_staff: bool
    is_barista: bool


DEMO_LOGINS = (
    DemoLogin("admin", "coffee-admin", "operator: admin, rules, dashboard", True, True),
    DemoLogin("barista", "coffee-barista", "barista: queue, claim, complete", False, True),
)


def seed() -> list[str]:
    """Creates the demo accounts once; an existing account is left exactly as it is."""
    created: list[str] = []
    baristas, _ = Group.objects.get_or_create(name=BARISTAS_GROUP)
    user_model = get_user_model()
    for login in DEMO_LOGINS:
        user, was_created = user_model.objects.get_or_create(
            username=login.username,
            defaults={"is_staff": login.is_staff, "is_superuser": login.is_staff},
        )
        if was_created:
            user.set_password(login.password)
            user.save(update_fields=["password"])
            created.append(login.username)
        if login.is_barista:
            user.groups.add(baristas)
    return created
