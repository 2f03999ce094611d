"""The sign-in forms, as allauth's with the shop's rules."""

from __future__ import annotations

from allauth.account.forms import RequestLoginCodeForm
from django import forms
from django.contrib.auth.models import AbstractBaseUser

from coffeeshop.accounts.services import customer_account_get_or_create


class RequestCustomerCodeForm(RequestLoginCodeForm):
    """"Email me a code": a new address gets its customer account on the way (one step for a
    first-time customer, no separate sign-up). Accounts with a password (staff) sign in with it,
    so a mailbox alone never opens a barista's or an operator's account."""

    def clean_email(self) -> str:
        email = super().clean_email()  # allauth's rate limit is consumed before anything else
        if not email:
            return email
        found: AbstractBaseUser | None = getattr(self, "_user", None)
        user = found or customer_account_get_or_create(email=email)
        if user.has_usable_password():
            raise forms.ValidationError(
                "This account signs in with its password: use the password form instead.",
                code="password_account",
            )
        self._user = user
        return email
