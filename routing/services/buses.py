"""Event buses: create, update, delete. A deleted bus keeps its row (its events are immutable and
its rules' revisions name it), hidden from every lookup by name, so the name can be used again."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from routing.errors import AlreadyExists, NotFound, ValidationError
from routing.models import DEFAULT_BUS_NAME, EventBus, Replay, ReplayState, bus_name_validator
from routing.services.rules import Actor
from routing.services.tags import tags_validate

MAX_DESCRIPTION_LENGTH = 512
# Replays in these states still publish to their destination bus.
_REPLAYS_UNDER_WAY = (ReplayState.STARTING, ReplayState.RUNNING, ReplayState.CANCELLING)


def _description_check(description: str) -> None:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(f"Description is longer than {MAX_DESCRIPTION_LENGTH} characters.",
                              field="Description")


def bus_get(name: str) -> EventBus:
    try:
        return EventBus.objects.get(name=name)
    except EventBus.DoesNotExist:
        raise NotFound(f"Event bus {name} does not exist.", field="EventBusName") from None


def bus_create(*, name: str, description: str = "", actor: Actor,
               tags: Mapping[str, str] | None = None) -> EventBus:
    try:
        bus_name_validator(name)
    except DjangoValidationError as error:
        raise ValidationError(" ".join(error.messages), field="Name") from None
    _description_check(description)
    checked_tags = tags_validate(tags or {})
    try:
        with transaction.atomic():
            return EventBus.objects.create(name=name, description=description,
                                           tags=checked_tags)
    except IntegrityError:
        raise AlreadyExists(f"Event bus {name} already exists.", field="Name") from None


def bus_ensure_default() -> EventBus:
    bus, _ = EventBus.objects.get_or_create(
        name=DEFAULT_BUS_NAME, defaults={"description": "The default event bus."}
    )
    return bus


def bus_update(*, name: str, actor: Actor, description: str | None = None,
               dead_letter_enabled: bool | None = None) -> EventBus:
    """UpdateEventBus: None leaves a setting as it is."""
    actor.require_bus(name)
    if description is not None:
        _description_check(description)
    with transaction.atomic():
        bus = EventBus.objects.select_for_update().filter(name=name).first()
        if bus is None:
            raise NotFound(f"Event bus {name} does not exist.", field="Name")
        if description is not None:
            bus.description = description
        if dead_letter_enabled is not None:
            bus.dead_letter_enabled = dead_letter_enabled
        bus.updated_at = timezone.now()
        bus.save(update_fields=["description", "dead_letter_enabled", "updated_at"])
    return bus


def bus_delete(*, name: str, actor: Actor) -> bool:
    """DeleteEventBus, as EventBridge: a bus that does not exist is no error (False), and a bus
    whose rules were all deleted, or that only ever received events, can be deleted. Its live
    rules (and so its archives, whose rules the archive manages) must go first."""
    if name == DEFAULT_BUS_NAME:
        raise ValidationError("Cannot delete event bus default.", field="Name")
    actor.require_bus(name)
    with transaction.atomic():
        bus = EventBus.objects.select_for_update().filter(name=name).first()
        if bus is None:
            return False
        if bus.rules.filter(deleted_at__isnull=True).exists():
            raise ValidationError(
                f"Event bus {name} still has rules: delete them (and its archives) first.",
                field="Name")
        if bus.archives.exists():
            raise ValidationError(f"Event bus {name} still has archives: delete them first.",
                                  field="Name")
        if Replay.objects.filter(destination_bus=bus, state__in=_REPLAYS_UNDER_WAY).exists():
            raise ValidationError(
                f"Event bus {name} is the destination of a replay under way: cancel it or let "
                "it finish first.", field="Name")
        bus.deleted_at = timezone.now()
        bus.save(update_fields=["deleted_at"])
        # Workers holding its compiled rules see a new version and drop them.
        EventBus.all_objects.filter(pk=bus.pk).update(rules_version=bus.rules_version + 1)
    return True
