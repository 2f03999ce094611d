"""Who is calling the AWS endpoint: the issued credential whose secret signed the request
(SigV4), and the buses it may use."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from routing.aws import sigv4
from routing.aws.credentials import (
    CredentialUnreadable,
    awscredential_record_use,
    awscredential_verifier,
)
from routing.aws.errors import AccessDenied, InternalFailure
from routing.models import region
from routing.publishers import Publisher
from routing.services.caller_cache import CachedCaller

logger = logging.getLogger(__name__)

SERVICE = "events"


@dataclass(frozen=True)
class AwsCaller:
    """An authenticated caller. `bus_names` limits the buses it may use (None: every bus)."""

    label: str
    publisher: Publisher
    bus_names: frozenset[str] | None = None
    # The sources it may publish (None: any source not reserved; see routing.sources).
    sources: tuple[str, ...] | None = None

    def may_use_bus(self, bus_name: str) -> bool:
        return self.bus_names is None or bus_name in self.bus_names

    def require_bus(self, bus_name: str) -> None:
        if not self.may_use_bus(bus_name):
            raise AccessDenied(
                f"This credential may not use event bus {bus_name}; it may use "
                f"{', '.join(sorted(self.bus_names or ()))}.",
                field="EventBusName",
            )


def authenticate(request: sigv4.HttpRequest, *, service: str = SERVICE,
                 required_signed_headers: tuple[str, ...] = sigv4.REQUIRED_SIGNED_HEADERS,
                 ) -> AwsCaller:
    """Verifies the request's signature against the issued credentials; raises the error AWS
    would for an unsigned, malformed, unknown, expired or wrongly signed request. `service` is
    the signing name (`events`, or `scheduler` for the Scheduler API)."""
    found: dict[str, CachedCaller[str]] = {}

    def secret_for(access_key_id: str) -> str | None:
        try:
            entry = awscredential_verifier(access_key_id)
        except CredentialUnreadable as error:
            logger.error("%s", error)
            raise InternalFailure(
                "The server cannot read this credential; its operator will find why in the "
                "server log."
            ) from None
        if entry is None:
            return None
        found[access_key_id] = entry
        return entry.secret

    authorization = sigv4.verify(request, secret_for=secret_for, region=region(),
                                 service=service, now=timezone.now(),
                                 required_signed_headers=required_signed_headers)
    entry = found[authorization.access_key_id]
    awscredential_record_use(entry)
    grant = entry.grant
    return AwsCaller(
        label=f"aws-credential:{grant.name}", bus_names=grant.bus_names,
        publisher=Publisher.aws_credential(credential_id=grant.pk, name=grant.name),
        sources=grant.sources,
    )


def request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
