"""allauth's adapter with the shop's rules."""

from __future__ import annotations

import segno
from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Customers get their account by asking for a sign-in code; staff accounts are made by
        # an operator in the admin. allauth's sign-up form (with a password) stays closed.
        return False


class MFAAdapter(DefaultMFAAdapter):
    def build_totp_svg(self, url: str) -> str:
        # segno's inline SVG has no style attributes, which the site's CSP would refuse.
        return str(segno.make(url, error="m").svg_inline(scale=5, border=2, omitsize=True,
                                                          svgclass="qr-svg"))
