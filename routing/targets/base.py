from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from routing.publishers import Publisher


@dataclass(frozen=True)
class DeliveryContext:
    """What a target (and a handler) knows about the attempt beside its payload."""

    event: dict[str, Any]
    event_id: str
    bus_name: str
    rule_name: str
    rule_arn: str
    target_id: str
    delivery_id: str
    attempt: int
    # Who published the event (from its row, not its body): what a subscriber trusts.
    publisher: Publisher

    @property
    def original_event_id(self) -> str:
        """The event a replayed copy copies, else the event itself: what a subscriber counts
        once, so that a replay of what it already handled changes nothing."""
        original: uuid.UUID | None = self.publisher.original_event_id
        return str(original) if original is not None else self.event_id

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt of this (event, target): receivers drop repeats by it."""
        return self.delivery_id


class AttemptFailure(Exception):
    """An attempt that did not succeed. `retryable` says whether trying again could help;
    `code` is short and stable (EventBridge's dead-letter codes where they fit)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool = True,
        response_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.response_status = response_status
        self.retry_after = retry_after


class SendDeferred(Exception):
    """The send did not start and counts as no attempt: the delivery goes back to pending and
    is tried again in `seconds` (an API destination waiting for its rate-limit slot)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason
