"""Archives: patterns on a bus whose matching events routing keeps for replays.

Routing records an ArchivedEvent row for each event an enabled archive matches (never for a
replayed event). Replays (`routing.services.replays`) walk those entries and the retention purge
(`routing.services.retention`) expires them. See docs/archive-replay.md.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.db.models import F

from routing.errors import AlreadyExists, NotFound, ValidationError
from routing.models import Archive, ArchiveState, EventBus, PendingRoute, Replay
from routing.services.publish import bus_name_from_reference
from routing.services.rules import Actor, parse_event_pattern

logger = logging.getLogger(__name__)

NAME_CHARACTERS = r"[\.\-_A-Za-z0-9]"
MAX_ARCHIVE_NAME_LENGTH = 48
MAX_DESCRIPTION_LENGTH = 512
MAX_RETENTION_DAYS = 2_147_483_647


class _Unset:
    """The default of `archive_update`'s fields: "leave it as it is" (None is a real pattern)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def _bump_rules_version(bus_id: int) -> None:
    EventBus.objects.filter(pk=bus_id).update(rules_version=F("rules_version") + 1)


def archive_name_from_reference(reference: str) -> str:
    """ArchiveName or an archive ARN (…:archive/NAME)."""
    if reference.startswith("arn:") and ":archive/" in reference:
        return reference.split(":archive/", 1)[1]
    return reference


def check_name(name: object, *, kind: str, max_length: int, field: str) -> str:
    """An archive's or a replay's name: 1 to `max_length` letters, digits, '.', '-' and '_'."""
    if not isinstance(name, str) or not re.fullmatch(f"{NAME_CHARACTERS}{{1,{max_length}}}", name):
        raise ValidationError(
            f"{kind} names are 1-{max_length} characters: letters, digits, '.', '-' and '_'.",
            field=field,
        )
    return name


def check_description(description: str) -> None:
    if not isinstance(description, str):
        raise ValidationError("Description must be a string.", field="Description")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"Description is longer than {MAX_DESCRIPTION_LENGTH} characters.", field="Description"
        )


def _check_retention(retention_days: Any) -> int:
    if isinstance(retention_days, bool) or not isinstance(retention_days, int):
        raise ValidationError("RetentionDays must be a whole number of days (0 keeps forever).",
                              field="RetentionDays")
    if not 0 <= retention_days <= MAX_RETENTION_DAYS:
        raise ValidationError(
            f"RetentionDays must be between 0 (keep forever) and {MAX_RETENTION_DAYS}.",
            field="RetentionDays",
        )
    return retention_days


def _parse_pattern(event_pattern: object | None) -> dict[str, Any] | None:
    return None if event_pattern is None else parse_event_pattern(event_pattern)




def archive_get(name: str) -> Archive:
    name = archive_name_from_reference(name)
    try:
        return Archive.objects.select_related("bus").get(name=name)
    except Archive.DoesNotExist:
        raise NotFound(f"Archive {name} does not exist.", field="ArchiveName") from None


def archive_create(
    *,
    name: str,
    bus_name: str,
    event_pattern: object | None = None,
    retention_days: int = 0,
    description: str = "",
    actor: Actor,
) -> Archive:
    """CreateArchive. With no pattern the archive keeps every event of the bus."""
    check_name(name, kind="Archive", max_length=MAX_ARCHIVE_NAME_LENGTH, field="ArchiveName")
    check_description(description)
    retention_days = _check_retention(retention_days)
    pattern = _parse_pattern(event_pattern)
    bus_name = bus_name_from_reference(bus_name)
    with transaction.atomic():
        bus = EventBus.objects.select_for_update().filter(name=bus_name).first()
        if bus is None:
            raise NotFound(f"Event bus {bus_name} does not exist.", field="EventSourceArn")
        if Archive.objects.filter(name=name).exists():
            raise AlreadyExists(f"Archive {name} already exists.", field="ArchiveName")
        try:
            with transaction.atomic():
                archive = Archive.objects.create(
                    name=name, bus=bus, event_pattern=pattern, retention_days=retention_days,
                    description=description,
                )
        except IntegrityError:  # created by someone else since the check above
            raise AlreadyExists(f"Archive {name} already exists.", field="ArchiveName") from None
        _bump_rules_version(bus.pk)
    logger.info("archive %s created on bus %s by %s", name, bus_name, actor.label)
    return archive


def archive_update(
    *,
    name: str,
    event_pattern: object | _Unset | None = UNSET,
    retention_days: int | _Unset = UNSET,
    description: str | _Unset = UNSET,
    state: str | _Unset = UNSET,
    actor: Actor,
) -> Archive:
    """UpdateArchive: only the fields given change. `event_pattern=None` archives every event.

    `state` (ENABLED / DISABLED) pauses archiving; a disabled archive keeps what it holds."""
    values: dict[str, Any] = {}
    if not isinstance(event_pattern, _Unset):
        values["event_pattern"] = _parse_pattern(event_pattern)
    if not isinstance(retention_days, _Unset):
        values["retention_days"] = _check_retention(retention_days)
    if not isinstance(description, _Unset):
        check_description(description)
        values["description"] = description
    if not isinstance(state, _Unset):
        if state not in ArchiveState.values:
            raise ValidationError(f"State must be one of {', '.join(ArchiveState.values)}.",
                                  field="State")
        values["state"] = state
    with transaction.atomic():
        archive = archive_get(name)
        archive = Archive.objects.select_for_update().select_related("bus").get(pk=archive.pk)
        changed = [field for field, value in values.items() if getattr(archive, field) != value]
        if not changed:
            return archive
        for field in changed:
            setattr(archive, field, values[field])
        archive.save(update_fields=changed)
        if {"event_pattern", "state"} & set(changed):
            _bump_rules_version(archive.bus_id)
    logger.info("archive %s changed (%s) by %s", archive.name, ", ".join(changed), actor.label)
    return archive


def archive_delete(*, name: str, actor: Actor) -> None:
    """DeleteArchive: its entries go with it (the events stay until the purge), and so do the
    records of its finished replays. Refused while one of its replays is in progress."""
    with transaction.atomic():
        archive = archive_get(name)
        archive = Archive.objects.select_for_update().get(pk=archive.pk)
        replays = list(Replay.objects.select_for_update().filter(archive=archive))
        active = [replay.name for replay in replays if replay.is_active]
        if active:
            raise ValidationError(
                f"Archive {archive.name} has a replay in progress ({', '.join(active)}): cancel "
                "it or let it finish first.",
                field="ArchiveName",
            )
        names = [replay.name for replay in replays]
        # Routing reads a replay's filter rules by its name: its events must be routed first.
        if names and PendingRoute.objects.filter(event__replay_name__in=names).exists():
            raise ValidationError(
                f"Events replayed from archive {archive.name} are still being routed; try again "
                "in a few seconds.",
                field="ArchiveName",
            )
        Replay.objects.filter(archive=archive).delete()
        archive.delete()
        _bump_rules_version(archive.bus_id)
    logger.info("archive %s deleted by %s", archive.name, actor.label)
