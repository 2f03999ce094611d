"""The Scheduler's schedules and groups in the admin: listed and shown with their firings and
carrier rule, and read-only (the Scheduler API writes them)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from routing.models import EventBus
from routing.publishers import Publisher
from routing.schedules.models import Schedule, ScheduleGroup
from routing.schedules.scheduler import ScheduleSpec, schedule_create
from routing.schedules.scheduler_firing import scheduler_schedules_fire
from routing.schedules.targets import Creator, ScheduleTarget
from routing.services import Actor


def url(model: type[Any], view: str, *args: object) -> str:
    return reverse(f"admin:routing_{model._meta.model_name}_{view}", args=args)


def test_schedules_and_groups_render_read_only(admin_client: Client, default_bus: EventBus,
                                               recorder: Any) -> None:
    schedule = schedule_create(
        spec=ScheduleSpec(name="reset", expression="rate(1 day)", target=ScheduleTarget(
            arn="arn:coffeeshop:handler:::tests.recorder", role_arn="", kind="handler",
            address="tests.recorder")),
        creator=Creator(actor=Actor.system("test"), publisher=Publisher.service("test")))
    assert scheduler_schedules_fire().fired == 1
    for model, obj in ((Schedule, schedule), (ScheduleGroup, schedule.group)):
        listing = admin_client.get(url(model, "changelist"))
        assert listing.status_code == 200, model
        assert listing.context["cl"].result_count == 1, model
        page = admin_client.get(url(model, "change", obj.pk))
        assert page.status_code == 200, model
        assert admin_client.get(url(model, "add")).status_code == 403, model
    page = admin_client.get(url(Schedule, "change", schedule.pk)).content.decode()
    assert "tests.recorder" in page
    assert schedule.carrier_rule is not None
    assert schedule.carrier_rule.name in page  # the carrier rule, linked
    assert "rate(1 day)" in page
