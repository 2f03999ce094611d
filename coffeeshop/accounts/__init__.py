"""Sign-in for the site (django-allauth): customers by a one-time code sent by email, staff by
their password. See docs/accounts.md."""
