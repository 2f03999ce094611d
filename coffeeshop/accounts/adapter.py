"""allauth's adapter with the shop's rules."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Customers get their account by asking for a sign-in code; staff accounts are made by
        # an operator in the admin. allauth's sign-up form (with a password) stays closed.
        return False
