"""The EventBridge actions on archives: Create, Describe, Update, List and DeleteArchive."""

from __future__ import annotations

from routing.aws import selectors, shapes
from routing.aws.actions.common import (
    NO_KMS,
    Output,
    actor_of,
    page_output,
)
from routing.aws.auth import AwsCaller
from routing.aws.params import NAME_PATTERN, Params, decode_next_token
from routing.models import Archive
from routing.services import (
    archive_create,
    archive_delete,
    archive_get,
    archive_update,
    bus_get,
)
from routing.services.archives import UNSET
from routing.services.publish import bus_name_from_reference


def _archive_for(params: Params, caller: AwsCaller) -> Archive:
    archive = archive_get(params.required_string("ArchiveName"))
    caller.require_bus(archive.bus.name)
    return archive


def create_archive(params: Params, caller: AwsCaller) -> Output:
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    bus_name = bus_name_from_reference(params.required_string("EventSourceArn"))
    caller.require_bus(bus_name)
    name = params.name("ArchiveName", pattern=NAME_PATTERN, max_length=48)
    assert name is not None
    archive = archive_create(
        name=name,
        bus_name=bus_name,
        event_pattern=params.string("EventPattern"),
        retention_days=params.integer("RetentionDays", minimum=0) or 0,
        description=params.string("Description") or "",
        actor=actor_of(caller),
    )
    return {"ArchiveArn": archive.arn, "State": archive.state,
            "CreationTime": shapes.epoch(archive.created_at)}


def describe_archive(params: Params, caller: AwsCaller) -> Output:
    archive = _archive_for(params, caller)
    figures = selectors.archive_figures(archive)
    return shapes.archive_detail_shape(archive, figures.event_count, figures.size_bytes)


def update_archive(params: Params, caller: AwsCaller) -> Output:
    params.refuse("KmsKeyIdentifier", why=NO_KMS)
    archive = _archive_for(params, caller)
    retention_days = params.integer("RetentionDays", minimum=0)
    archive = archive_update(
        name=archive.name,
        event_pattern=params.string("EventPattern") if params.present("EventPattern") else UNSET,
        retention_days=UNSET if retention_days is None else retention_days,
        description=params.string("Description") or "" if params.present("Description") else UNSET,
        actor=actor_of(caller),
    )
    return {"ArchiveArn": archive.arn, "State": archive.state,
            "CreationTime": shapes.epoch(archive.created_at)}


def list_archives(params: Params, caller: AwsCaller) -> Output:
    source = params.string("EventSourceArn")
    if source:
        bus_get(bus_name_from_reference(source))  # as at AWS: no such bus is an error
    page = selectors.archives_page(
        prefix=params.string("NamePrefix"),
        bus_name=bus_name_from_reference(source) if source else None,
        state=params.string("State"),
        allowed=caller.bus_names,
        after=decode_next_token(params, "ListArchives"),
        limit=params.limit(),
    )
    return page_output("Archives",
                        [shapes.archive_shape(archive, figures.event_count, figures.size_bytes)
                         for archive, figures in page.items],
                        "ListArchives", page.next_after)


def delete_archive(params: Params, caller: AwsCaller) -> Output:
    archive = _archive_for(params, caller)
    archive_delete(name=archive.name, actor=actor_of(caller))
    return {}
