"""The reads behind ListSchedules and ListScheduleGroups: one page at a time in name order,
resumed after the last key of the previous page (a keyset: no row that was there all along is
skipped or repeated, whatever is created or deleted meanwhile)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Q
from django.db.models.functions import Substr

from routing.errors import ValidationError
from routing.schedules.models import Schedule, ScheduleGroup
from routing.schedules.scheduler import group_ensure_default, groups_live, schedules_reachable
from routing.services.rules import Actor

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: str | None  # the key to resume after, when there is more


def groups_page(*, prefix: str | None, after: str | None, limit: int) -> Page[ScheduleGroup]:
    group_ensure_default()
    groups = groups_live()
    if prefix:
        # Not `startswith`: SQLite's LIKE ignores case, and NamePrefix is case-sensitive.
        groups = groups.annotate(_head=Substr("name", 1, len(prefix))).filter(_head=prefix)
    if after is not None:
        groups = groups.filter(name__gt=after)
    rows = list(groups.order_by("name")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].name if more else None)


def schedules_page(*, actor: Actor, group: ScheduleGroup | None, prefix: str | None,
                   state: str | None, after: str | None, limit: int) -> Page[Schedule]:
    """The schedules `actor` may reach, by group then name; `after` is a key this returned."""
    schedules = schedules_reachable(actor)
    if group is not None:
        schedules = schedules.filter(group=group)
    if prefix:
        schedules = schedules.annotate(_head=Substr("name", 1, len(prefix))).filter(_head=prefix)
    if state is not None:
        schedules = schedules.filter(state=state)
    if after is not None:
        try:
            group_name, name = (str(part) for part in json.loads(after))
        except (ValueError, TypeError):
            raise ValidationError("The NextToken is not valid: pass the NextToken the previous "
                                  "page returned.", field="NextToken") from None
        schedules = schedules.filter(Q(group__name__gt=group_name)
                                     | Q(group__name=group_name, name__gt=name))
    rows = list(schedules.order_by("group__name", "name")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    key = json.dumps([rows[-1].group.name, rows[-1].name]) if more else None
    return Page(rows, key)
