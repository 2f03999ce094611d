"""Each worker process keeps, per bus, a compiled `RuleIndex` of the enabled rules (and the
archives' patterns), refreshed when the bus's `rules_version` moves.

Freshness costs one indexed read per routed batch (none when the route task has read the
version with its events). When the version has moved, the live rules'
(id, revision) pairs are read and only the rules that changed are removed from or added to the
index, so a change to one rule among thousands does not recompile the others.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import cast

from django.db.models import OuterRef, Subquery

from routing.models import Archive, ArchiveState, EventBus, Rule, RuleRevision, RuleState, Target
from routing.patterns import RuleIndex


@dataclass(frozen=True)
class CompiledTarget:
    id: int
    target_id: str
    kind: str
    max_event_age_seconds: int


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    revision: int
    revision_id: int
    targets: tuple[CompiledTarget, ...]


RuleKey = tuple[str, int]  # ("rule", id) or ("archive", id)


@dataclass
class CompiledBus:
    bus_id: int
    version: int = -1
    index: RuleIndex = field(default_factory=RuleIndex)
    rules: dict[int, CompiledRule] = field(default_factory=dict)
    archive_ids: set[int] = field(default_factory=set)

    def match(self, envelope: dict[str, object]) -> tuple[list[CompiledRule], list[int]]:
        """The enabled rules and the archives whose patterns the event matches."""
        rules: list[CompiledRule] = []
        archives: list[int] = []
        # The index is not thread-safe, and a threaded worker may refresh it meanwhile.
        with _lock:
            found = self.index.match(envelope)
        for matched in found:
            kind, key = cast(RuleKey, matched)
            if kind == "rule":
                rules.append(self.rules[key])
            else:
                archives.append(key)
        return rules, archives


_lock = threading.Lock()
_compiled: dict[int, CompiledBus] = {}


def compiled_bus(bus_id: int, *, version: int | None = None) -> CompiledBus:
    """The bus's compiled rules as of `version` (its `rules_version`; read here when the caller
    has not just read it with its events)."""
    if version is None:
        version = EventBus.objects.filter(pk=bus_id).values_list("rules_version", flat=True).get()
    with _lock:
        compiled = _compiled.setdefault(bus_id, CompiledBus(bus_id=bus_id))
        if compiled.version != version:
            _refresh(compiled, version)
        return compiled


def forget_compiled_buses() -> None:
    with _lock:
        _compiled.clear()


def _refresh(compiled: CompiledBus, version: int) -> None:
    live = {
        rule_id: revision
        # Scheduled rules match no events: they fire on their own (routing.schedules).
        for rule_id, revision in Rule.objects.filter(
            bus_id=compiled.bus_id, deleted_at__isnull=True, state=RuleState.ENABLED,
            schedule_expression="",
        ).values_list("id", "revision")
    }
    stale = [rule_id for rule_id, rule in compiled.rules.items()
             if live.get(rule_id) != rule.revision]
    for rule_id in stale:
        compiled.index.remove(("rule", rule_id))
        del compiled.rules[rule_id]
    wanted = [rule_id for rule_id in live if rule_id not in compiled.rules]
    if wanted:
        _add_rules(compiled, wanted)
    _refresh_archives(compiled)
    compiled.version = version


def _add_rules(compiled: CompiledBus, rule_ids: list[int]) -> None:
    current_revision = RuleRevision.objects.filter(
        rule_id=OuterRef("pk"), number=OuterRef("revision")
    ).values("id")[:1]
    rules = Rule.objects.filter(
        pk__in=rule_ids, deleted_at__isnull=True, state=RuleState.ENABLED, schedule_expression=""
    ).annotate(revision_id=Subquery(current_revision))
    targets: dict[int, list[CompiledTarget]] = {}
    for target in Target.objects.filter(rule_id__in=rule_ids, deleted_at__isnull=True):
        targets.setdefault(target.rule_id, []).append(
            CompiledTarget(id=target.pk, target_id=target.target_id, kind=target.kind,
                           max_event_age_seconds=target.max_event_age_seconds)
        )
    for rule in rules:
        compiled.index.add(("rule", rule.pk), rule.event_pattern)
        compiled.rules[rule.pk] = CompiledRule(
            id=rule.pk,
            name=rule.name,
            revision=rule.revision,
            revision_id=rule.revision_id,
            targets=tuple(targets.get(rule.pk, ())),
        )


def _refresh_archives(compiled: CompiledBus) -> None:
    for archive_id in compiled.archive_ids:
        compiled.index.remove(("archive", archive_id))
    compiled.archive_ids.clear()
    archives = Archive.objects.filter(bus_id=compiled.bus_id, state=ArchiveState.ENABLED)
    for archive_id, pattern in archives.values_list("id", "event_pattern"):
        # Replayed events are never archived again.
        archived = dict(pattern or {})
        not_replayed = {**archived, "replay-name": [{"exists": False}]}
        compiled.index.add(("archive", archive_id), not_replayed)
        compiled.archive_ids.add(archive_id)
