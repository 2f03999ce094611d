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
    awscredential_find,
    awscredential_touch,
    decrypt_secret,
)
from routing.aws.errors import AccessDenied, InternalFailure
from routing.models import AwsCredential, region
from routing.publishers import Publisher

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
    found: dict[str, AwsCredential] = {}

    def secret_for(access_key_id: str) -> str | None:
        credential = awscredential_find(access_key_id)
        if credential is None:
            return None
        try:
            secret = decrypt_secret(credential.secret_access_key_encrypted)
        except CredentialUnreadable as error:
            logger.error("AWS credential %s: %s", credential.name, error)
            raise InternalFailure(
                "The server cannot read this credential; its operator will find why in the "
                "server log."
            ) from None
        found[access_key_id] = credential
        return secret

    authorization = sigv4.verify(request, secret_for=secret_for, region=region(),
                                 service=service, now=timezone.now(),
                                 required_signed_headers=required_signed_headers)
    credential = found[authorization.access_key_id]
    awscredential_touch(credential)
    names = frozenset(bus.name for bus in credential.buses.all())
    return AwsCaller(
        label=f"aws-credential:{credential.name}", bus_names=names or None,
        publisher=Publisher.aws_credential(credential_id=credential.pk, name=credential.name),
        sources=tuple(credential.sources) or None,
    )


def request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
