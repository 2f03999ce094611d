"""`webhook` targets: an HTTP POST of the payload, signed, with an idempotency key.

Headers sent with every attempt:
- `Idempotency-Key`: the delivery's id, the same on every attempt of this (event, target);
- `X-Coffeeshop-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed by the
  target's signing secret (receivers recompute it and reject stale timestamps);
- `X-Coffeeshop-Event-Id`, `X-Coffeeshop-Rule`, `X-Coffeeshop-Attempt`.

2xx is success. 429 and 5xx, time-outs and connection errors are retried (honouring
Retry-After); any other status is not, since sending the same request again cannot fix it.
Hosts that resolve to loopback, private or link-local addresses are refused unless
ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES is set.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from routing.models import Target
from routing.targets.base import AttemptFailure, DeliveryContext

USER_AGENT = "coffeeshop-eventbus/1.0"
SIGNATURE_HEADER = "X-Coffeeshop-Signature"

_local = threading.local()


def _client() -> httpx.Client:
    client: httpx.Client | None = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(follow_redirects=False, headers={"User-Agent": USER_AGENT})
        _local.client = client
    return client


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver does: recompute the signature and refuse stale timestamps."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def _refuse_private_host(host: str, port: int) -> None:
    if settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise AttemptFailure("DnsError", f"Cannot resolve {host}: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise AttemptFailure(
                "NO_PERMISSIONS",
                f"Webhook host {host} resolves to {address}, a loopback or private address; "
                "set ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES to allow it.",
                retryable=False,
            )


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _content_type(payload: str) -> str:
    try:
        json.loads(payload)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def send(target: Target, payload: str, context: DeliveryContext) -> int | None:
    parts = urlsplit(target.address)
    if not parts.hostname:
        raise AttemptFailure("NO_RESOURCE", f"Invalid webhook URL {target.address}.",
                             retryable=False)
    _refuse_private_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    body = payload.encode()
    headers = {
        "Content-Type": _content_type(payload),
        "Idempotency-Key": context.idempotency_key,
        "X-Coffeeshop-Event-Id": context.event_id,
        "X-Coffeeshop-Rule": context.rule_arn,
        "X-Coffeeshop-Attempt": str(context.attempt),
        SIGNATURE_HEADER: sign(target.signing_secret, int(time.time()), body),
    }
    try:
        response = _client().post(target.address, content=body, headers=headers,
                                  timeout=target.webhook_timeout_seconds)
    except httpx.TimeoutException:
        raise AttemptFailure(
            "TIMEOUT", f"No response within {target.webhook_timeout_seconds:g} s."
        ) from None
    except httpx.HTTPError as error:
        raise AttemptFailure("ConnectionError", f"{type(error).__name__}: {error}") from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    snippet = response.text[:300]
    retryable = status == 429 or status >= 500
    raise AttemptFailure(
        "THROTTLING" if status == 429 else f"HTTP{status}",
        f"The webhook answered HTTP {status}: {snippet}",
        retryable=retryable,
        response_status=status,
        retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
    )
