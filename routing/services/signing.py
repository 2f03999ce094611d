"""Webhook signing secrets: what signs a target's deliveries, shown to its owner in the Standard
Webhooks form (`whsec_` + base64 of the key), and rotated with an overlap during which the old
key signs too, so a receiver can switch secrets without refusing a single delivery.

The key itself is the target's `signing_secret` text, whose bytes key both the Standard Webhooks
signature and the older X-Coffeeshop-Signature: `whsec_` + base64 of those bytes is the same key
to a Standard Webhooks library."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from routing.errors import ValidationError
from routing.models import Target, TargetKind, new_signing_secret
from routing.timestamps import utc_timestamp

STANDARD_PREFIX = "whsec_"
MAX_OVERLAP_SECONDS = 7 * 86400


def standard_secret(key: str) -> str:
    return STANDARD_PREFIX + base64.b64encode(key.encode()).decode()


def standard_webhooks_signer(key: str) -> Webhook:
    return Webhook(key.encode())


def target_signing_keys(target: Target, *, now: datetime | None = None) -> list[str]:
    """The keys that sign now: the current one, then the previous one while in its overlap."""
    moment = now or timezone.now()
    keys = [target.signing_secret]
    expires = target.previous_signing_secret_expires_at
    if target.previous_signing_secret and expires is not None and expires > moment:
        keys.append(target.previous_signing_secret)
    return keys


@dataclass(frozen=True)
class SigningSecret:
    """What the target's owner sees."""

    target_id: str
    secret: str
    legacy_secret: str
    previous_secret: str | None
    previous_expires_at: datetime | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "TargetId": self.target_id,
            "Secret": self.secret,
            "LegacySecret": self.legacy_secret,
            "PreviousSecret": self.previous_secret,
            "PreviousSecretExpiresAt": utc_timestamp(self.previous_expires_at),
        }


def target_signing_secret(target: Target) -> SigningSecret:
    keys = target_signing_keys(target)
    previous = keys[1] if len(keys) > 1 else None
    return SigningSecret(
        target_id=target.target_id,
        secret=standard_secret(keys[0]),
        legacy_secret=keys[0],
        previous_secret=standard_secret(previous) if previous else None,
        previous_expires_at=target.previous_signing_secret_expires_at if previous else None,
    )


def _signing_target_check(target: Target) -> None:
    if target.kind != TargetKind.WEBHOOK or target.deleted_at is not None:
        raise ValidationError(f"Target {target.target_id} is not a live webhook target: only "
                              "webhooks are signed.", field="TargetId")


def target_signing_secret_rotate(*, target: Target, overlap_seconds: int | None = None
                                 ) -> SigningSecret:
    """A new key signs from now on; the current one keeps signing beside it for the overlap
    (ROUTING_SIGNING_SECRET_OVERLAP_SECONDS by default; 0 ends the old key at once)."""
    _signing_target_check(target)
    overlap = (settings.ROUTING_SIGNING_SECRET_OVERLAP_SECONDS if overlap_seconds is None
               else overlap_seconds)
    if not 0 <= overlap <= MAX_OVERLAP_SECONDS:
        raise ValidationError(f"OverlapSeconds must be between 0 and {MAX_OVERLAP_SECONDS}.",
                              field="OverlapSeconds")
    with transaction.atomic():
        locked = Target.objects.select_for_update().get(pk=target.pk)
        _signing_target_check(locked)
        locked.previous_signing_secret = locked.signing_secret if overlap else ""
        locked.previous_signing_secret_expires_at = (
            timezone.now() + timedelta(seconds=overlap) if overlap else None)
        locked.signing_secret = new_signing_secret()
        locked.save(update_fields=["signing_secret", "previous_signing_secret",
                                   "previous_signing_secret_expires_at"])
    return target_signing_secret(locked)


def webhook_target_get(*, bus_name: str, rule_name: str, target_id: str) -> Target:
    """The live webhook target `target_id` of the rule, or NotFound."""
    from routing.errors import NotFound
    from routing.services.rules import rule_get

    rule = rule_get(bus_name=bus_name, name=rule_name)
    target = (Target.objects.select_related("rule", "rule__bus")
              .filter(rule=rule, target_id=target_id, deleted_at__isnull=True).first())
    if target is None:
        raise NotFound(f"Rule {rule_name} has no target {target_id}.", field="TargetId")
    _signing_target_check(target)
    return target
