"""Outbound HTTP for every target that calls someone else's server (webhooks, API destinations,
an OAuth token endpoint): the one place that checks where a request may go.

The host is resolved once per request and every address it resolves to is checked against
`routing.netpolicy` (loopback, private, link-local, metadata... are refused unless
ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES is set); the connection is then opened to one of exactly
those addresses, never resolving again, so a name that rebinds between check and connect cannot
move it. The URL, the Host header and TLS (SNI and certificate verification) keep the hostname.
Redirects are not followed, and proxies from the environment are not used: a proxy would resolve
the name itself.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import certifi
import httpcore
import httpx
from django.conf import settings
from httpcore._backends.sync import SyncStream

from routing import netpolicy
from routing.targets.base import AttemptFailure

USER_AGENT = "coffeeshop-eventbus/1.0"

_local = threading.local()


@dataclass(frozen=True)
class _Pin:
    host: str
    port: int
    addresses: tuple[netpolicy.Resolved, ...]


# The checked addresses of the request being sent on this thread (or task).
_pin: ContextVar[_Pin | None] = ContextVar("outbound_pin", default=None)


class _PinnedBackend(httpcore.SyncBackend):
    """Opens connections only to the addresses checked for the request being sent."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        pin = _pin.get()
        if pin is None or (host, port) != (pin.host, pin.port):
            raise httpcore.ConnectError(f"{host}:{port} is not the checked host.")
        error: OSError | None = None
        for resolved in pin.addresses:
            sock = socket.socket(resolved.family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.connect(resolved.sockaddr)
            except OSError as failed:
                sock.close()
                error = failed
                continue
            return SyncStream(sock)
        if isinstance(error, TimeoutError):
            raise httpcore.ConnectTimeout(str(error))
        raise httpcore.ConnectError(f"{error}")


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx 0.28 takes no network backend; the httpcore pool it wraps does.
        limits = httpx.Limits()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(),
        )


def _client() -> httpx.Client:
    # One per thread and per policy: a pooled connection is reused only under the policy (and
    # the trusted certificates) it was checked with.
    key = (settings.ROUTING_WEBHOOK_CA_BUNDLE, settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES)
    clients: dict[tuple[str, bool], httpx.Client] = _local.__dict__.setdefault("clients", {})
    client = clients.get(key)
    if client is None:
        ssl_context = ssl.create_default_context(cafile=key[0] or certifi.where())
        client = httpx.Client(transport=_PinnedTransport(ssl_context), follow_redirects=False,
                              trust_env=False, headers={"User-Agent": USER_AGENT})
        clients[key] = client
    return client


def checked_url(address: str, *, what: str) -> httpx.URL:
    """The URL to send to; a non-retryable failure if it is not an http(s) URL."""
    try:
        url = httpx.URL(address)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in {"http", "https"} or not url.raw_host:
        raise AttemptFailure("NO_RESOURCE", f"Invalid {what} URL {address}.", retryable=False)
    return url


def _checked_addresses(url: httpx.URL, what: str) -> _Pin:
    """Resolves the URL's host once and checks every address it stands for."""
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = netpolicy.resolve(host, port)
    except netpolicy.InvalidHostError as error:
        raise AttemptFailure("NO_RESOURCE", f"Invalid {what} host: {error}.",
                             retryable=False) from None
    except (OSError, UnicodeError) as error:
        raise AttemptFailure("DnsError", f"Cannot resolve {host}: {error}") from None
    message = netpolicy.refusal_message(
        f"{what.capitalize()} host {host}",
        netpolicy.refusals(host, (resolved.address for resolved in addresses)),
        allow_private=settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES)
    if message is not None:
        raise AttemptFailure("NO_PERMISSIONS", message, retryable=False)
    return _Pin(host, port, tuple(addresses))


def send_checked(method: str, url: httpx.URL, *, headers: Mapping[str, str], content: bytes,
                 timeout: float, what: str = "webhook") -> httpx.Response:
    """Sends one request to a checked address; transport failures are retryable
    AttemptFailures (TIMEOUT, ConnectionError), a refused address a final one."""
    pin = _checked_addresses(url, what)
    pinned = _pin.set(pin)
    try:
        return _client().request(method, url, content=content or None, headers=dict(headers),
                                 timeout=timeout)
    except httpx.TimeoutException:
        raise AttemptFailure("TIMEOUT", f"No response within {timeout:g} s.") from None
    except httpx.HTTPError as error:
        raise AttemptFailure("ConnectionError", f"{type(error).__name__}: {error}") from None
    finally:
        _pin.reset(pinned)


def retry_after_seconds(value: str | None) -> float | None:
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


def failure_of(response: httpx.Response, *, what: str) -> AttemptFailure:
    """A non-2xx answer: 429 and 5xx are retried (honouring Retry-After), any other status is
    not, since sending the same request again cannot fix it."""
    status = response.status_code
    snippet = response.text[:300]
    return AttemptFailure(
        "THROTTLING" if status == 429 else f"HTTP{status}",
        f"The {what} answered HTTP {status}: {snippet}",
        retryable=status == 429 or status >= 500,
        response_status=status,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )
