"""Customers: a guest's or a signed-in account's, with a name the barista can call out."""

from __future__ import annotations

from django.contrib.auth.models import User

from orders.models import Customer
from orders.workflow import OrderError

NAME_MAX_LENGTH = 40


def _clean_name(name: str) -> str:
    """A name the barista can call out: trimmed, 1-40 printable characters."""
    cleaned = " ".join(name.split()) if isinstance(name, str) else ""
    if not cleaned:
        raise OrderError("Please tell us your name, so the barista can call you.",
                         "invalid_name", field="name")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise OrderError(
            f"Please use at most {NAME_MAX_LENGTH} characters for your name "
            f"(this one has {len(cleaned)}).",
            "invalid_name", field="name",
        )
    if not cleaned.isprintable():
        raise OrderError("Your name can only contain letters, digits, spaces and punctuation.",
                         "invalid_name", field="name")
    return cleaned


def customer_create(*, name: str, user: User | None = None, robot: bool = False) -> Customer:
    """A customer: a signed-in account's (one per account) or a guest's, with a name."""
    return Customer.objects.create(name=_clean_name(name), user=user, robot=robot)


def customer_for_account(*, user: User) -> Customer:
    """The signed-in account's customer, made on its first order (its name still to be told).
    Concurrent first requests get the one row the unique `user` allows."""
    customer, _ = Customer.objects.get_or_create(user=user)
    return customer


def customer_set_name(*, customer: Customer, name: str) -> Customer:
    customer.name = _clean_name(name)
    customer.save(update_fields=["name"])
    return customer

