"""Which network addresses a webhook may reach: the one address policy of the project.

Pure Python, no Django: callers pass the setting (`ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`).

A host is read the way the machine's resolver would read it, so that no spelling of an address
slips past: `inet_aton`'s IPv4 forms (`2130706433`, `0177.0.0.1`, `0x7f.0.0.1`, `127.1`), IPv6
literals, and the IPv4 addresses that IPv6 forms carry inside them (IPv4-mapped `::ffff:0:0/96`,
NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo `2001::/32`). An address is refused unless it is
globally reachable: loopback, private, shared (CGNAT), link-local (the cloud metadata address
169.254.169.254 among them), multicast, reserved, documentation and unspecified addresses are
not.

`resolve` is the only name resolution a webhook send does: the addresses it returns are the ones
checked and the ones connected to (see `routing.targets.webhook`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_SETTING = "ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES"

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]+|[0-9]+)\Z")

_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_TEREDO = ipaddress.IPv6Network("2001::/32")


class InvalidHostError(ValueError):
    """A host that ends in a number but is no IPv4 address a resolver would accept."""


def _inet_aton_part(text: str) -> int:
    if text[:2].lower() == "0x":
        return int(text[2:], 16)
    if len(text) > 1 and text.startswith("0"):
        if any(digit in "89" for digit in text):
            raise InvalidHostError(f"{text} is not an octal number")
        return int(text, 8)
    return int(text, 10)


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` read as `inet_aton` reads it (1 to 4 parts, each decimal, 0-octal or 0x-hex, the
    last filling the remaining bytes); None if it is not numeric at all.

    A host whose last label is a number but that is not a valid address raises
    InvalidHostError: a resolver would try it as a name, and no honest name looks like that.
    """
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels = labels[:-1]  # "127.0.0.1." is the same host to a URL parser
    if not labels or not _NUMBER.match(labels[-1]):
        return None
    if len(labels) > 4 or not all(_NUMBER.match(label) for label in labels):
        raise InvalidHostError(f"{host} is not a valid IPv4 address")
    parts = [_inet_aton_part(label) for label in labels]
    *leading, last = parts
    if any(part > 0xFF for part in leading) or last >= 1 << (8 * (5 - len(parts))):
        raise InvalidHostError(f"{host} is not a valid IPv4 address")
    value = 0
    for part in leading:
        value = value << 8 | part
    return ipaddress.IPv4Address(value << (8 * (5 - len(parts))) | last)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells (IPv4 in any `inet_aton` form, IPv6 with or without brackets
    or a zone), or None if `host` is a name."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            raise InvalidHostError(f"{host} is not a valid IPv6 address") from None
    return parse_ipv4(text)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to the network (mapped, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _kind(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (the cloud metadata range)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a globally reachable address"
    return None


def _predicate(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _IPV4_COMPATIBLE and int(address) > 1:
            return "is a deprecated IPv4-compatible address"
        if address in _NAT64_LOCAL:
            return "is a local-use NAT64 address"
        if address in _TEREDO:
            return "is a Teredo address"
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = _kind(inner)
            return None if reason is None else f"carries {inner}, {reason}"
    reason = _kind(address)
    return None if reason is None else f"is {reason}"


def _without_zone(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return ipaddress.IPv6Address(str(address).split("%", 1)[0])
    return address


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not connect to `address`, or None if it may."""
    address = _without_zone(address)
    predicate = _predicate(address)
    return None if predicate is None else f"{address} {predicate}"


def host_refusal(host: str) -> str | None:
    """Why a URL with this host may not be a webhook, judged without resolving it: local names
    and every IP literal spelling of a refused address. Raises InvalidHostError."""
    name = host.strip().rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return f"{host} is a local name"
    literal = parse_ip_literal(host)
    if literal is None:
        return None
    address = _without_zone(literal)
    predicate = _predicate(address)
    if predicate is None:
        return None
    if str(address) == host.strip("[]"):
        return f"{address} {predicate}"
    return f"{host} is {address}, which {predicate}"


def refusals(host: str, addresses: Iterable[IPAddress]) -> Iterator[str | None]:
    """Why `host`, then each address it resolved to, is refused (None where it is not), one at a
    time: a caller that stops at the first reason checks no further."""
    yield host_refusal(host)
    for address in addresses:
        yield refusal(address)


def refusal_message(subject: str, reasons: Iterable[str | None], *,
                    allow_private: bool) -> str | None:
    """Why `subject` (a URL or a host) is refused, from the first of `reasons` there is, with the
    setting that would allow it; None when there is none or the setting allows every address.
    `reasons` is read only when the setting does not allow them."""
    if allow_private:
        return None
    reason = next((reason for reason in reasons if reason is not None), None)
    if reason is None:
        return None
    return f"{subject} is refused: {reason}; set {ALLOW_SETTING} to allow it."


@dataclass(frozen=True)
class Resolved:
    family: socket.AddressFamily
    sockaddr: tuple[str, int] | tuple[str, int, int, int]

    @property
    def address(self) -> IPAddress:
        return ipaddress.ip_address(self.sockaddr[0])


def resolve(host: str, port: int) -> list[Resolved]:
    """Every address `host` stands for, resolved once. Literals are parsed here, never
    handed to the resolver, so that the address checked is the one `inet_aton` would pick.
    Raises OSError (socket.gaierror) when the name does not resolve, InvalidHostError."""
    literal = parse_ip_literal(host)
    if literal is not None:
        if isinstance(literal, ipaddress.IPv4Address):
            return [Resolved(socket.AF_INET, (str(literal), port))]
        return [Resolved(socket.AF_INET6, (str(literal).split("%", 1)[0], port, 0,
                                          _scope_index(literal)))]
    results: list[Resolved] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6):
            resolved = Resolved(family, sockaddr)  # type: ignore[arg-type]
            if resolved not in results:
                results.append(resolved)
    if not results:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no IPv4 or IPv6 address")
    return results


def _scope_index(address: ipaddress.IPv6Address) -> int:
    if not address.scope_id:
        return 0
    try:
        return int(address.scope_id)
    except ValueError:
        return socket.if_nametoindex(address.scope_id)
