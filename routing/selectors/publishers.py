"""Who published a stored event, as a `Publisher`: what targets and handlers are given."""

from __future__ import annotations

from routing.models import Event
from routing.publishers import Publisher, PublisherKind


def _stored(kind: str, reference: str, label: str) -> Publisher:
    try:
        publisher_kind = PublisherKind(kind)
    except ValueError:
        publisher_kind = PublisherKind.UNKNOWN
    return Publisher(publisher_kind, reference, label)


def event_publisher(event: Event) -> Publisher:
    """The event's publisher; a replayed copy's carries the original's as its `origin` (the
    original is kept while its archive entry is: ArchivedEvent protects it)."""
    publisher = _stored(event.publisher_kind, event.publisher_ref, event.published_by)
    if event.replay_of is None:
        return publisher
    row = Event.objects.filter(pk=event.replay_of).values(
        "publisher_kind", "publisher_ref", "published_by").first()
    origin = None if row is None else _stored(row["publisher_kind"], row["publisher_ref"],
                                              row["published_by"])
    return Publisher(publisher.kind, publisher.reference, publisher.label,
                     original_event_id=event.replay_of, origin=origin)
