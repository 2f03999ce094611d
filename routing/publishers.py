"""Who published an event: recorded on the event's row (never in its EventBridge body) and
handed to every target and handler with the event, so a subscriber can trust a publisher
rather than a `source` string anybody may type. Pure Python: no Django here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class PublisherKind(StrEnum):
    API_KEY = "api_key"
    AWS_CREDENTIAL = "aws_credential"
    USER = "user"
    SERVICE = "service"
    SCHEDULER = "scheduler"
    REPLAY = "replay"
    BUS = "bus"
    # Rows stored before publishers were recorded.
    UNKNOWN = ""


@dataclass(frozen=True)
class Publisher:
    """`reference` is the ApiKey / AwsCredential / user / Replay id, or the name of an internal
    service, scheduler or forwarding rule. `label` is the readable form kept beside it (names
    can be reused; ids cannot). A replayed copy names its `original_event_id` and, once read
    back from the database, the `origin`: the publisher of the original it copies."""

    kind: PublisherKind
    reference: str
    label: str
    original_event_id: uuid.UUID | None = None
    origin: Publisher | None = None

    @classmethod
    def api_key(cls, *, key_id: int, name: str) -> Publisher:
        return cls(PublisherKind.API_KEY, str(key_id), f"api-key:{name}")

    @classmethod
    def aws_credential(cls, *, credential_id: int, name: str) -> Publisher:
        return cls(PublisherKind.AWS_CREDENTIAL, str(credential_id), f"aws-credential:{name}")

    @classmethod
    def user(cls, *, user_id: object, username: str) -> Publisher:
        return cls(PublisherKind.USER, str(user_id), f"user:{username}")

    @classmethod
    def service(cls, name: str) -> Publisher:
        return cls(PublisherKind.SERVICE, name, f"service:{name}")

    @classmethod
    def scheduler(cls, name: str) -> Publisher:
        return cls(PublisherKind.SCHEDULER, name, f"scheduler:{name}")

    @classmethod
    def replay(cls, *, replay_id: int, name: str) -> Publisher:
        """The replay as it publishes: each copy's original is on its entry (`replay_of`)."""
        return cls(PublisherKind.REPLAY, str(replay_id), f"replay:{name}")

    @classmethod
    def bus(cls, *, bus_name: str, rule_name: str) -> Publisher:
        return cls(PublisherKind.BUS, f"{bus_name}/{rule_name}", f"bus:{bus_name}/{rule_name}")

    @property
    def is_replay(self) -> bool:
        return self.kind == PublisherKind.REPLAY

    @property
    def is_credential(self) -> bool:
        """An outside caller: what it may publish is limited by what it was given."""
        return self.kind in {PublisherKind.API_KEY, PublisherKind.AWS_CREDENTIAL,
                             PublisherKind.USER}

    def is_service(self, name: str) -> bool:
        """Published by the internal service `name`, or a replay of an event it published."""
        if self.kind == PublisherKind.SERVICE:
            return self.reference == name
        return self.is_replay and self.origin is not None and self.origin.is_service(name)

    def as_dict(self) -> dict[str, object]:
        """For traces and pages."""
        body: dict[str, object] = {"kind": self.kind.value, "reference": self.reference,
                                   "label": self.label}
        if self.original_event_id is not None:
            body["original_event_id"] = str(self.original_event_id)
        if self.origin is not None:
            body["origin"] = self.origin.as_dict()
        return body


UNKNOWN_PUBLISHER = Publisher(PublisherKind.UNKNOWN, "", "")
