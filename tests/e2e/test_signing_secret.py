"""A webhook target's signing secret in the rules dashboard, in headless Chromium against the
real ASGI server: staff open the disclosure, see the whsec_ secret, rotate it (confirming), and
see the new secret with the old one still signing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from routing.models import Target
from routing.services import Actor, TargetSpec, targets_put
from routing.services.signing import standard_secret
from tests.e2e.test_dashboard_rules import log_in
from tests.routing.dashboard.test_rules_support import make_bus, make_rule, make_user
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_rotate_a_signing_secret_from_the_targets_page(page: Page,
                                                             asgi_server: AsgiServer) -> None:
    make_user("ops")
    rule = make_rule(make_bus())
    assert not targets_put(rule=rule, actor=Actor.system("test"), targets=[
        TargetSpec(target_id="printer", kind="webhook", address="https://hooks.example.com/r")])
    before = Target.objects.get(rule=rule, target_id="printer", deleted_at__isnull=True)
    path = f"/dashboard/rules/{rule.pk}/targets/"
    log_in(page, asgi_server, path)

    card = page.locator("#target-printer")
    secret = card.locator("#target-printer-secret")
    secret.get_by_text("Signing secret").click()
    expect(secret).to_contain_text(standard_secret(before.signing_secret))
    secret.get_by_label("Old secret keeps signing for (hours)").fill("3")
    page.once("dialog", lambda dialog: dialog.accept())
    secret.get_by_role("button", name="Rotate secret").click()
    expect(page.locator(".messages")).to_contain_text(
        re.compile(r"Target printer has a new signing secret.*for 3 h"))

    after = Target.objects.get(pk=before.pk)
    assert after.signing_secret != before.signing_secret
    page.locator("#target-printer-secret").get_by_text("Signing secret").click()
    secret = page.locator("#target-printer-secret")
    expect(secret).to_contain_text(standard_secret(after.signing_secret))
    expect(secret).to_contain_text("Previous secret")
    expect(secret).to_contain_text(standard_secret(before.signing_secret))
