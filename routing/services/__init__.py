"""Every write to the bus. Views, the API, admin, consumers and tasks call these."""

from routing.services.archives import (
    archive_create,
    archive_delete,
    archive_get,
    archive_update,
)
from routing.services.buses import (
    bus_create,
    bus_delete,
    bus_ensure_default,
    bus_get,
    bus_update,
)
from routing.services.delivery import (
    deliveries_redrive,
    delivery_attempt,
    delivery_redrive,
)
from routing.services.matching import route_events
from routing.services.publish import (
    EntryError,
    EventEntry,
    PutEventsResult,
    event_publish,
    events_store,
    put_events,
)
from routing.services.replays import replay_cancel, replay_get, replay_start
from routing.services.retention import events_purge
from routing.services.rules import (
    Actor,
    TargetSpec,
    rule_delete,
    rule_get,
    rule_put,
    rule_restore_revision,
    rule_set_state,
    targets_put,
    targets_remove,
)
from routing.services.sweeper import sweep
from routing.services.tags import resource_tag, resource_untag, tags_of

__all__ = [
    "Actor",
    "EntryError",
    "EventEntry",
    "PutEventsResult",
    "TargetSpec",
    "archive_create",
    "archive_delete",
    "archive_get",
    "archive_update",
    "bus_create",
    "bus_delete",
    "bus_ensure_default",
    "bus_get",
    "bus_update",
    "deliveries_redrive",
    "delivery_attempt",
    "delivery_redrive",
    "event_publish",
    "events_purge",
    "events_store",
    "put_events",
    "replay_cancel",
    "replay_get",
    "replay_start",
    "resource_tag",
    "resource_untag",
    "route_events",
    "rule_delete",
    "rule_get",
    "rule_put",
    "rule_restore_revision",
    "rule_set_state",
    "sweep",
    "tags_of",
    "targets_put",
    "targets_remove",
]
