"""Account writes: a customer's account, created the first time their email asks for a code."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction


def customer_account_get_or_create(*, email: str) -> AbstractBaseUser:
    """The active account of `email`, or a new passwordless one (its address is verified by the
    code that signs it in). Concurrent first requests for one address end with one account."""
    found = filter_users_by_email(email, is_active=True, prefer_verified=True)
    if found:
        return found[0]
    user_model = get_user_model()
    local_part = email.split("@", 1)[0]
    username = get_adapter().generate_unique_username([local_part, "customer"])
    try:
        with transaction.atomic():
            user = user_model(username=username, email=email)
            user.set_unusable_password()
            user.save()
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    except IntegrityError:
        found = filter_users_by_email(email, is_active=True)
        if not found:
            raise
        return found[0]
    return user
