"""`webhook` targets: an HTTP POST of the payload, signed, with an idempotency key.

Headers sent with every attempt:
- `webhook-id`, `webhook-timestamp`, `webhook-signature`: the Standard Webhooks signature
  (https://www.standardwebhooks.com): `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`
  keyed by the target's signing secret (shown as `whsec_...`); while a rotated-out secret is
  still in its overlap, a second signature made with it follows, space-separated. The id is the
  delivery's, the same on every attempt. Any Standard Webhooks library verifies it.
- `X-Coffeeshop-Signature`: the older header, kept for existing receivers:
  `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (and `,v1=<...>` with the previous
  secret during an overlap);
- `Idempotency-Key`: the delivery's id; `X-Coffeeshop-Event-Id`, `X-Coffeeshop-Rule`,
  `X-Coffeeshop-Attempt`.

2xx is success. 429 and 5xx, time-outs and connection errors are retried (honouring
Retry-After); any other status is not. Where a request may go is `routing.targets.outbound`'s
to check (resolved once, every address checked, the connection pinned to them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from routing.models import Target
from routing.services.signing import standard_webhooks_signer, target_signing_keys
from routing.targets.base import DeliveryContext
from routing.targets.outbound import checked_url, failure_of, send_checked

SIGNATURE_HEADER = "X-Coffeeshop-Signature"


def _hex_digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes, *, also: tuple[str, ...] = ()) -> str:
    """The X-Coffeeshop-Signature header: one v1 per secret, the current one first."""
    digests = [_hex_digest(key, timestamp, body) for key in (secret, *also)]
    return f"t={timestamp}," + ",".join(f"v1={digest}" for digest in digests)


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver of X-Coffeeshop-Signature does: recompute the signature, accept it if
    any v1 matches, and refuse stale timestamps."""
    try:
        fields = [part.split("=", 1) for part in header.split(",")]
        timestamp = int(next(value for key, value in fields if key == "t"))
    except (ValueError, StopIteration):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = _hex_digest(secret, timestamp, body)
    return any(key == "v1" and hmac.compare_digest(expected, value) for key, value in fields)


def signature_headers(target: Target, *, message_id: str, body: str,
                      timestamp: int | None = None) -> dict[str, str]:
    """Both signature schemes' headers for one request body."""
    moment = int(time.time()) if timestamp is None else timestamp
    keys = target_signing_keys(target)
    when = datetime.fromtimestamp(moment, tz=UTC)
    standard = " ".join(standard_webhooks_signer(key).sign(message_id, when, body)
                        for key in keys)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(moment),
        "webhook-signature": standard,
        SIGNATURE_HEADER: sign(keys[0], moment, body.encode(), also=tuple(keys[1:])),
    }


def _content_type(payload: str) -> str:
    try:
        json.loads(payload)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def send(target: Target, payload: str, context: DeliveryContext) -> int | None:
    url = checked_url(target.address, what="webhook")
    headers = {
        "Content-Type": _content_type(payload),
        "Idempotency-Key": context.idempotency_key,
        "X-Coffeeshop-Event-Id": context.event_id,
        "X-Coffeeshop-Rule": context.rule_arn,
        "X-Coffeeshop-Attempt": str(context.attempt),
        **signature_headers(target, message_id=context.idempotency_key, body=payload),
    }
    response = send_checked("POST", url, headers=headers, content=payload.encode(),
                            timeout=target.webhook_timeout_seconds, what="webhook")
    if 200 <= response.status_code < 300:
        return response.status_code
    raise failure_of(response, what="webhook")
