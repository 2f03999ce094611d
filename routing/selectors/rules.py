"""Reads for the rule editor: the rules of a bus at a glance, events to test against, the impact
of a pattern change on recent events, what a target would receive, and revision diffs.

Nothing here writes. Patterns are compiled once per call and events are read in one query with
only the envelope's fields."""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from routing.errors import InvalidEventPattern, NotFound
from routing.models import (
    Delivery,
    DeliveryStatus,
    Event,
    EventBus,
    Rule,
    RuleRevision,
    Target,
)
from routing.patterns import InvalidPatternError, Pattern, compile_pattern, flatten_event
from routing.timestamps import utc_timestamp
from routing.transform.rendering import render_target_input
from routing.transform.target_input import TargetInput

IMPACT_LIMITS = (100, 1000, 5000)
IMPACT_EXAMPLES = 5
RECENT_MATCHES_WINDOW = timedelta(hours=1)
# Only the fields Event.envelope() reads: the impact preview walks thousands of rows.
ENVELOPE_FIELDS = ("id", "version", "detail_type", "source", "account", "time", "region",
                   "resources", "detail", "replay_name")


# Buses and the rules list ---------------------------------------------------------------------

@dataclass(frozen=True)
class BusChoice:
    name: str
    live_rules: int


def bus_choices() -> list[BusChoice]:
    """Every bus with its number of live rules, by name (one query)."""
    rows = EventBus.objects.annotate(
        live_rules=Count("rules", filter=Q(rules__deleted_at__isnull=True))
    ).order_by("name").values_list("name", "live_rules")
    return [BusChoice(name, count) for name, count in rows]


def bus_for_rules(requested: str | None) -> EventBus | None:
    """The bus named `requested`; without a name, the bus with the most live rules (None if
    there is no bus at all). Raises NotFound for an unknown name."""
    if requested:
        bus = EventBus.objects.filter(name=requested).first()
        if bus is None:
            raise NotFound(f"Event bus {requested} does not exist.", field="EventBusName")
        return bus
    return (
        EventBus.objects.annotate(
            live_rules=Count("rules", filter=Q(rules__deleted_at__isnull=True))
        ).order_by("-live_rules", "name").first()
    )


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    targets: int
    # Events delivered to this rule's targets in the last hour; None for a rule without
    # targets, whose matches leave no record.
    recent_matches: int | None
    summary: list[str]


def rule_rows(bus: EventBus, *, now: datetime | None = None) -> list[RuleRow]:
    """The bus's live rules with their target counts and recent matches (two queries)."""
    since = (now or timezone.now()) - RECENT_MATCHES_WINDOW
    rules = list(
        Rule.objects.filter(bus=bus, deleted_at__isnull=True)
        .select_related("bus")
        .annotate(live_targets=Count("targets", filter=Q(targets__deleted_at__isnull=True)))
        .order_by("name")
    )
    counts = dict(
        Delivery.objects.filter(
            target__in=Target.objects.filter(rule__in=[rule.pk for rule in rules]),
            # Naming every status lets the (target, status, created_at) index serve the time
            # range; without it the database reads each target's whole delivery history.
            status__in=DeliveryStatus.values,
            created_at__gte=since,
        )
        .values("target__rule_id")
        .annotate(matches=Count("event_id", distinct=True))
        .values_list("target__rule_id", "matches")
    ) if rules else {}
    return [
        RuleRow(
            rule=rule,
            targets=rule.live_targets,
            recent_matches=counts.get(rule.pk, 0) if rule.live_targets else None,
            summary=pattern_summary(rule.event_pattern),
        )
        for rule in rules
    ]


def rule_live(pk: int) -> Rule:
    """A live (not deleted) rule with its bus. Raises NotFound."""
    rule = Rule.objects.select_related("bus").filter(pk=pk, deleted_at__isnull=True).first()
    if rule is None:
        raise NotFound(f"Rule {pk} does not exist.", field="Rule")
    return rule


def rule_live_targets(rule: Rule) -> list[Target]:
    return list(rule.targets.filter(deleted_at__isnull=True).order_by("target_id"))


# Pattern summaries ----------------------------------------------------------------------------

SUMMARY_FIELDS = 4
SUMMARY_VALUES = 3


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        ((operator, operand),) = value.items()
        if isinstance(operand, list) and operator == "numeric":
            return "numeric " + " ".join(str(part) for part in operand)
        operand_text = operand if isinstance(operand, str) else json.dumps(operand)
        return f"{operator} {operand_text}"
    return json.dumps(value, separators=(",", ":"))


def _summary_items(pattern: Mapping[str, Any], prefix: str) -> list[str]:
    items: list[str] = []
    for key, value in pattern.items():
        path = f"{prefix}{key}"
        if key == "$or" and isinstance(value, list) and value and isinstance(value[0], Mapping):
            items.append(f"{prefix}$or: any of {len(value)} alternatives")
        elif isinstance(value, Mapping):
            items.extend(_summary_items(value, path + "."))
        elif isinstance(value, list):
            shown = " | ".join(_value_text(v) for v in value[:SUMMARY_VALUES])
            more = f" (+{len(value) - SUMMARY_VALUES})" if len(value) > SUMMARY_VALUES else ""
            items.append(f"{path}: {shown}{more}")
    return items


def pattern_summary(pattern: Any) -> list[str]:
    """A few short lines saying what a pattern matches, e.g. `detail-type: prefix OrderManager.`."""
    if not isinstance(pattern, Mapping):
        return [json.dumps(pattern)[:80]]
    items = _summary_items(pattern, "")
    if len(items) > SUMMARY_FIELDS:
        items = [*items[:SUMMARY_FIELDS - 1], f"+{len(items) - SUMMARY_FIELDS + 1} more fields"]
    return items


# Events to test against -----------------------------------------------------------------------

@dataclass(frozen=True)
class EventChoice:
    id: str
    source: str
    detail_type: str
    ingested_at: datetime


def recent_events(bus: EventBus, *, limit: int = 25) -> list[EventChoice]:
    rows = Event.objects.filter(bus=bus).order_by("-ingested_at").values_list(
        "id", "source", "detail_type", "ingested_at"
    )[:limit]
    return [EventChoice(str(pk), source, detail_type, at) for pk, source, detail_type, at in rows]


@dataclass(frozen=True)
class StoredEnvelope:
    event_id: str
    bus_name: str
    envelope: dict[str, Any]
    ingestion_time: str


def stored_envelope(event_id: str) -> StoredEnvelope:
    """A stored event's envelope and ingestion time, on any bus. Raises NotFound."""
    try:
        key = uuid.UUID(str(event_id).strip())
    except ValueError:
        raise NotFound(f"Event {event_id} does not exist: not an event id.",
                       field="event_id") from None
    event = Event.objects.select_related("bus").filter(pk=key).first()
    if event is None:
        raise NotFound(f"Event {key} does not exist.", field="event_id")
    return StoredEnvelope(str(event.pk), event.bus.name, event.envelope(),
                          utc_timestamp(event.ingested_at, timespec="seconds"))


# Impact preview -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImpactExample:
    id: str
    source: str
    detail_type: str
    time: str


@dataclass
class ImpactDifference:
    count: int = 0
    examples: list[ImpactExample] = field(default_factory=list)

    def add(self, envelope: Mapping[str, Any]) -> None:
        self.count += 1
        if len(self.examples) < IMPACT_EXAMPLES:
            self.examples.append(ImpactExample(
                id=envelope["id"], source=envelope["source"],
                detail_type=envelope["detail-type"], time=envelope["time"],
            ))


@dataclass
class Impact:
    limit: int
    scanned: int = 0
    current_matches: int = 0
    proposed_matches: int = 0
    both: int = 0
    newly_matched: ImpactDifference = field(default_factory=ImpactDifference)
    no_longer_matched: ImpactDifference = field(default_factory=ImpactDifference)


def pattern_impact(
    *, bus: EventBus, current: Pattern | None, proposed: Pattern, limit: int
) -> Impact:
    """Of the bus's last `limit` events (newest first), how many each pattern matches and which
    events only one of them matches. `current` is None for a rule not saved yet. One query,
    streamed; each event is flattened once for both patterns."""
    impact = Impact(limit=limit)
    events = (
        Event.objects.filter(bus=bus).order_by("-ingested_at").only(*ENVELOPE_FIELDS)[:limit]
    )
    for event in events.iterator(chunk_size=1000):
        envelope = event.envelope()
        flat = flatten_event(envelope)
        was = current is not None and current.matches_flat(flat)
        now = proposed.matches_flat(flat)
        impact.scanned += 1
        impact.current_matches += was
        impact.proposed_matches += now
        if was and now:
            impact.both += 1
        elif now:
            impact.newly_matched.add(envelope)
        elif was:
            impact.no_longer_matched.add(envelope)
    return impact


# What a target receives -----------------------------------------------------------------------

def target_input_preview(
    *, rule: Rule, target_input: TargetInput, envelope: dict[str, Any], ingestion_time: str
) -> str:
    """Exactly the text the delivery code would send this target for this event. Raises
    routing.transform.InvalidTargetInputError for an invalid input."""
    return render_target_input(envelope, target_input, rule_arn=rule.arn, rule_name=rule.name,
                               ingestion_time=ingestion_time)


# Revisions ------------------------------------------------------------------------------------

def rule_revisions(rule: Rule) -> list[RuleRevision]:
    return list(rule.revisions.select_related("changed_by").order_by("-number"))


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added" or "removed"
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: str
    new: str


@dataclass(frozen=True)
class TargetChange:
    target_id: str
    kind: str  # "added", "removed" or "changed"
    changes: list[FieldChange]


@dataclass(frozen=True)
class RevisionDiff:
    old: RuleRevision | None  # None: compared with nothing (the rule's first revision)
    new: RuleRevision
    pattern_lines: list[DiffLine]
    pattern_changed: bool
    state: FieldChange | None
    description: FieldChange | None
    targets: list[TargetChange]

    @property
    def changed(self) -> bool:
        return bool(self.pattern_changed or self.state or self.description or self.targets)


def pretty_pattern(pattern: Any) -> str:
    return json.dumps(pattern, indent=2, ensure_ascii=False)


def line_diff(old_text: str, new_text: str) -> list[DiffLine]:
    """Every line of both texts, marked same/removed/added, with line numbers on each side."""
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    result: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(DiffLine("same", i1 + k + 1, j1 + k + 1, old_lines[i1 + k])
                          for k in range(i2 - i1))
            continue
        result.extend(DiffLine("removed", i + 1, None, old_lines[i]) for i in range(i1, i2))
        result.extend(DiffLine("added", None, j + 1, new_lines[j]) for j in range(j1, j2))
    return result


def _flat_fields(value: Any, prefix: str = "") -> dict[str, str]:
    """`{"RetryPolicy": {"MaximumRetryAttempts": 3}}` gives
    `{"RetryPolicy.MaximumRetryAttempts": "3"}`: one entry per leaf, as JSON."""
    if isinstance(value, Mapping) and (value or not prefix):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(_flat_fields(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: json.dumps(value, ensure_ascii=False)}


def targets_diff(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
                 ) -> list[TargetChange]:
    """Targets added, removed or changed (by Id), each with its fields that differ, in the
    order a target snapshot lists them."""
    before = {str(t.get("Id")): t for t in old}
    after = {str(t.get("Id")): t for t in new}
    changes: list[TargetChange] = []
    for target_id in [*before, *(key for key in after if key not in before)]:
        was, now = before.get(target_id), after.get(target_id)
        old_fields = _flat_fields({k: v for k, v in (was or {}).items() if k != "Id"})
        new_fields = _flat_fields({k: v for k, v in (now or {}).items() if k != "Id"})
        names = [*old_fields, *(name for name in new_fields if name not in old_fields)]
        fields = [
            FieldChange(name, old_fields.get(name, "—"), new_fields.get(name, "—"))
            for name in names
            if old_fields.get(name) != new_fields.get(name)
        ]
        if was is None:
            changes.append(TargetChange(target_id, "added", fields))
        elif now is None:
            changes.append(TargetChange(target_id, "removed", fields))
        elif fields:
            changes.append(TargetChange(target_id, "changed", fields))
    return changes


def revision_diff(rule: Rule, *, number: int, against: str | int = "current") -> RevisionDiff:
    """Revision `number` compared with the current revision, the previous one, or any other
    (`against`), always read older → newer. A revision compared with itself shows what it
    changed. Raises NotFound for a revision the rule does not have."""
    if number < 1:
        raise NotFound(f"Rule {rule.name} has no revision {number}.", field="Revision")
    if against == "current":
        other = rule.revision
    elif against == "previous":
        other = number - 1
    else:
        other = int(against)
        if other < 1:
            raise NotFound(f"Rule {rule.name} has no revision {other}.", field="Revision")
    old_number, new_number = sorted((number, other))
    if old_number == new_number:
        old_number -= 1
    revisions = {
        revision.number: revision
        for revision in rule.revisions.select_related("changed_by").filter(
            number__in=[old_number, new_number]
        )
    }
    for wanted in (old_number, new_number):
        if wanted != 0 and wanted not in revisions:
            raise NotFound(f"Rule {rule.name} has no revision {wanted}.", field="Revision")
    old, new = revisions.get(old_number), revisions[new_number]
    old_pattern = pretty_pattern(old.event_pattern) if old is not None else ""
    new_pattern = pretty_pattern(new.event_pattern)
    state = description = None
    if old is None or old.state != new.state:
        state = FieldChange("State", old.state if old else "—", new.state)
    if old is None or old.description != new.description:
        description = FieldChange("Description", old.description if old else "—",
                                  new.description)
    return RevisionDiff(
        old=old,
        new=new,
        pattern_lines=line_diff(old_pattern, new_pattern),
        pattern_changed=old_pattern != new_pattern,
        state=state,
        description=description,
        targets=targets_diff(old.targets if old else [], new.targets),
    )


# Patterns -------------------------------------------------------------------------------------

def compiled_pattern(pattern: str | Mapping[str, Any]) -> Pattern:
    """The engine's compiled pattern; raises InvalidEventPattern with EventBridge's message and
    `field` = the offending path (None for syntax errors and whole-pattern problems)."""
    try:
        return compile_pattern(pattern)
    except InvalidPatternError as error:
        raise InvalidEventPattern(str(error), field=error.path) from None


def latest_change(rule: Rule) -> str:
    """What the rule's current revision changed, e.g. "changed pattern, state"."""
    return (RuleRevision.objects.filter(rule=rule, number=rule.revision)
            .values_list("change", flat=True).first() or "")
