"""Tags on schedule groups, by ARN, as EventBridge Scheduler keeps them: a group takes tags (on
CreateScheduleGroup and through TagResource), a schedule takes none. The limits are the bus's
own tags' (routing.services.tags): 50 per group, keys 1-128 characters, values up to 256, keys
beginning `aws:` reserved. Tags describe a group; they change nothing a schedule does."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.db import transaction

from routing.errors import NotFound, ValidationError
from routing.schedules.models import DEFAULT_GROUP_NAME, ScheduleGroup
from routing.schedules.scheduler import group_ensure_default, groups_live
from routing.services.tags import tags_validate

_GROUP_ARN = re.compile(r"arn:aws[\w-]*:scheduler:[^:]*:[^:]*:schedule-group/(?P<name>[^/]+)")
_SCHEDULE_ARN = re.compile(r"arn:aws[\w-]*:scheduler:[^:]*:[^:]*:schedule/.+")


def _group_name(arn: str) -> str:
    match = _GROUP_ARN.fullmatch(arn)
    if match is not None:
        return match["name"]
    if _SCHEDULE_ARN.fullmatch(arn):
        raise ValidationError(
            f"{arn[:200]} is a schedule: EventBridge Scheduler keeps tags on schedule groups "
            "only.", field="ResourceArn")
    raise ValidationError(
        f"ResourceArn {arn[:200]} is not the ARN of a schedule group "
        "(arn:aws:scheduler:REGION:ACCOUNT:schedule-group/NAME).", field="ResourceArn")


def _group(arn: str, *, for_update: bool = False) -> ScheduleGroup:
    name = _group_name(arn)
    if name == DEFAULT_GROUP_NAME:
        group_ensure_default()
    groups = groups_live().select_for_update() if for_update else groups_live()
    group = groups.filter(name=name).first()
    if group is None:
        raise NotFound(f"Schedule group {name} does not exist.", field="ResourceArn")
    return group


def group_tags_of(*, arn: str) -> dict[str, str]:
    """ListTagsForResource."""
    return dict(_group(arn).tags)


def group_tag(*, arn: str, tags: Mapping[str, str]) -> dict[str, str]:
    """TagResource: adds the tags, replacing the value of a key already there."""
    tags_validate(tags)
    with transaction.atomic():
        group = _group(arn, for_update=True)
        merged = tags_validate({**group.tags, **tags})
        ScheduleGroup.objects.filter(pk=group.pk).update(tags=merged)
    return merged


def group_untag(*, arn: str, keys: Iterable[str]) -> dict[str, str]:
    """UntagResource: a key that is not there is no error, as at AWS."""
    removed = set(keys)
    with transaction.atomic():
        group = _group(arn, for_update=True)
        remaining = {key: value for key, value in group.tags.items() if key not in removed}
        ScheduleGroup.objects.filter(pk=group.pk).update(tags=remaining)
    return remaining
