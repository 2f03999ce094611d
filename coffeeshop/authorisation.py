"""Who a user is, for every door of both apps (pages, JSON endpoints, sockets, admin, APIs):
the one place that reads `is_authenticated`, `is_active`, `is_staff` and group membership.

Each app decides what a role may do (the dashboard is for staff; orders/permissions.py says who
runs a shop) on these answers, so "staff" means the same thing everywhere: an active, signed-in
account with `is_staff`. An inactive account is nobody, whatever its flags say."""

from __future__ import annotations

from typing import Any


def is_signed_in(user: Any) -> bool:
    """An active account that has signed in (anonymous and deactivated users are not)."""
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "is_active", False))


def is_staff(user: Any) -> bool:
    return is_signed_in(user) and bool(getattr(user, "is_staff", False))


def in_group(user: Any, group_name: str) -> bool:
    """Whether a signed-in user belongs to the group `group_name` (one query)."""
    return is_signed_in(user) and bool(user.groups.filter(name=group_name).exists())
