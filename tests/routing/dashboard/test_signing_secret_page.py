"""A webhook target's signing secret on its rule's targets page: staff see it in the Standard
Webhooks form and rotate it with an overlap; other kinds show none; non-staff cannot rotate."""

from __future__ import annotations

import pytest
from django.urls import reverse

from routing.models import Target
from routing.services import Actor, TargetSpec, targets_put
from routing.services.signing import standard_secret, target_signing_keys
from tests.routing.dashboard.test_rules_support import client_for, make_bus, make_rule, make_user

pytestmark = pytest.mark.django_db


def test_staff_see_and_rotate_a_webhook_targets_signing_secret() -> None:
    rule = make_rule(make_bus())
    assert not targets_put(rule=rule, actor=Actor.system("test"), targets=[
        TargetSpec(target_id="printer", kind="webhook", address="https://hooks.example.com/r")])
    target = Target.objects.get(rule=rule, target_id="printer", deleted_at__isnull=True)
    client = client_for(make_user("ops"))
    page = client.get(reverse("dashboard-rules:targets", args=[rule.pk])).content.decode()
    assert standard_secret(target.signing_secret) in page
    assert "Rotate secret" in page

    response = client.post(reverse("dashboard-rules:target-rotate-secret",
                                   args=[rule.pk, "printer"]), {"overlap_hours": "2"})
    assert response.status_code == 302
    rotated = Target.objects.get(pk=target.pk)
    assert rotated.signing_secret != target.signing_secret
    assert target_signing_keys(rotated) == [rotated.signing_secret, target.signing_secret]
    page = client.get(reverse("dashboard-rules:targets", args=[rule.pk])).content.decode()
    assert standard_secret(rotated.signing_secret) in page
    assert "Previous secret" in page


def test_non_staff_cannot_rotate() -> None:
    rule = make_rule(make_bus())
    assert not targets_put(rule=rule, actor=Actor.system("test"), targets=[
        TargetSpec(target_id="printer", kind="webhook", address="https://hooks.example.com/r")])
    before = Target.objects.get(rule=rule, target_id="printer").signing_secret
    client = client_for(make_user("guest", staff=False))
    response = client.post(reverse("dashboard-rules:target-rotate-secret",
                                   args=[rule.pk, "printer"]))
    assert response.status_code in {302, 403}
    assert Target.objects.get(rule=rule, target_id="printer").signing_secret == before
