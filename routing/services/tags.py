"""Tags on buses, rules and archives, by ARN, with AWS's limits: at most 50 per resource, keys of
1-128 characters and values of up to 256, and keys beginning `aws:` reserved. Tags describe a
resource; they change nothing the bus does, so changing them is no revision of a rule."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from routing.errors import NotFound, RoutingError, ValidationError
from routing.models import DEFAULT_BUS_NAME, Archive, EventBus, Rule

if TYPE_CHECKING:
    from routing.services.rules import Actor

MAX_TAGS_PER_RESOURCE = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"
# AWS's own tag character set: letters, digits and spaces in any language, and _ . : / = + - @
_TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*")

_ARN = re.compile(r"arn:aws[\w-]*:events:[^:]*:[^:]*:(?P<kind>event-bus|rule|archive)/(?P<rest>.+)")

TaggedResource = EventBus | Rule | Archive


def tags_validate(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags as a dict, or ValidationError naming the first tag AWS would refuse."""
    if len(tags) > MAX_TAGS_PER_RESOURCE:
        raise ValidationError(
            f"A resource has at most {MAX_TAGS_PER_RESOURCE} tags; these would be {len(tags)}.",
            field="Tags")
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValidationError("Each tag needs a Key and a Value, both strings.", field="Tags")
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise ValidationError(
                f"Tag key {key[:40]!r} must be 1 to {MAX_KEY_LENGTH} characters long.",
                field="Tags.Key")
        if len(value) > MAX_VALUE_LENGTH:
            raise ValidationError(
                f"The value of tag {key[:40]!r} is longer than {MAX_VALUE_LENGTH} characters.",
                field="Tags.Value")
        if key.lower().startswith(RESERVED_PREFIX):
            raise ValidationError(
                f"Tag key {key[:40]!r} is refused: keys beginning with '{RESERVED_PREFIX}' are "
                "reserved for AWS use.", field="Tags.Key")
        for what, text in (("key", key), ("value", value)):
            if not _TAG_TEXT.fullmatch(text):
                raise ValidationError(
                    f"Tag {what} {text[:40]!r} is not valid: use letters, digits, spaces and "
                    "_ . : / = + - @ only.", field=f"Tags.{what.title()}")
    return dict(tags)


@dataclass(frozen=True)
class _Found:
    resource: TaggedResource
    bus_name: str


def _resource(arn: str) -> _Found:
    match = _ARN.fullmatch(arn)
    if match is None:
        raise ValidationError(
            f"ResourceARN {arn[:200]} is not the ARN of an event bus, rule or archive of this "
            "bus (arn:aws:events:REGION:ACCOUNT:event-bus/NAME, …:rule/[BUS/]NAME or "
            "…:archive/NAME).", field="ResourceARN")
    kind, rest = match["kind"], match["rest"]
    if kind == "event-bus":
        bus = EventBus.objects.filter(name=rest).first()
        if bus is None:
            raise NotFound(f"Event bus {rest} does not exist.", field="ResourceARN")
        return _Found(bus, bus.name)
    if kind == "rule":
        bus_name, _, name = rest.rpartition("/")
        bus_name = bus_name or DEFAULT_BUS_NAME
        rule = Rule.objects.select_related("bus").filter(
            bus__name=bus_name, bus__deleted_at__isnull=True, name=name,
            deleted_at__isnull=True).first()
        if rule is None:
            raise NotFound(f"Rule {name} does not exist on EventBus {bus_name}.",
                           field="ResourceARN")
        return _Found(rule, bus_name)
    archive = Archive.objects.select_related("bus").filter(name=rest).first()
    if archive is None:
        raise NotFound(f"Archive {rest} does not exist.", field="ResourceARN")
    return _Found(archive, archive.bus.name)


def _found_for(arn: str, actor: Actor, *, for_change: bool) -> _Found:
    found = _resource(arn)
    actor.require_bus(found.bus_name)
    if for_change and isinstance(found.resource, Rule) and found.resource.managed_by:
        raise RoutingError(
            f"Rule {found.resource.name} is managed by {found.resource.managed_by}: its tags "
            "cannot be changed here.", code="ManagedRuleException", field="ResourceARN")
    return found


def tags_of(*, arn: str, actor: Actor) -> dict[str, str]:
    """ListTagsForResource."""
    return dict(_found_for(arn, actor, for_change=False).resource.tags)


def _save_tags(found: _Found, tags: dict[str, str]) -> None:
    model = type(found.resource)
    manager = EventBus.all_objects if model is EventBus else model._default_manager
    manager.filter(pk=found.resource.pk).update(tags=tags)


def resource_tag(*, arn: str, tags: Mapping[str, str], actor: Actor) -> dict[str, str]:
    """TagResource: adds the tags, replacing the value of a key already there."""
    tags_validate(tags)
    with transaction.atomic():
        found = _found_for(arn, actor, for_change=True)
        merged = tags_validate({**_locked_tags(found), **tags})
        _save_tags(found, merged)
    return merged


def resource_untag(*, arn: str, keys: Iterable[str], actor: Actor) -> dict[str, str]:
    """UntagResource: a key that is not there is no error, as at AWS."""
    removed = set(keys)
    with transaction.atomic():
        found = _found_for(arn, actor, for_change=True)
        remaining = {key: value for key, value in _locked_tags(found).items()
                     if key not in removed}
        _save_tags(found, remaining)
    return remaining


def _locked_tags(found: _Found) -> dict[str, str]:
    model = type(found.resource)
    manager = EventBus.all_objects if model is EventBus else model._default_manager
    row = manager.select_for_update().filter(pk=found.resource.pk).values_list("tags", flat=True)
    return dict(row.get() or {})
