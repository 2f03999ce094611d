"""The address policy without Django: every spelling of a refused address is read as the resolver
reads it and refused; public addresses pass."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from routing import netpolicy
from routing.netpolicy import InvalidHostError, host_refusal, parse_ip_literal, refusal

# Each a spelling of a loopback, private, link-local (metadata), multicast or unspecified address.
REFUSED_LITERALS = {
    "127.0.0.1": "127.0.0.1",
    "2130706433": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "0x7f.0.0.1": "127.0.0.1",
    "0x7F.0.0.1": "127.0.0.1",
    "127.1": "127.0.0.1",
    "0x7f.1": "127.0.0.1",
    "127.0.1": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "127.0.0.1.": "127.0.0.1",
    "0": "0.0.0.0",  # noqa: S104 (refused here, never bound)
    "0.0.0.0": "0.0.0.0",  # noqa: S104
    "10.1.2.3": "10.1.2.3",
    "0xa.1.2.3": "10.1.2.3",
    "169.254.169.254": "169.254.169.254",
    "2852039166": "169.254.169.254",
    "0xa9fea9fe": "169.254.169.254",
    "0251.0376.0251.0376": "169.254.169.254",
    "100.100.100.200": "100.100.100.200",
    "224.0.0.1": "224.0.0.1",
    "255.255.255.255": "255.255.255.255",
    "::1": "::1",
    "[::1]": "::1",
    "::": "::",
    "::ffff:127.0.0.1": "::ffff:7f00:1",
    "[::ffff:7f00:1]": "::ffff:7f00:1",
    "::ffff:169.254.169.254": "::ffff:a9fe:a9fe",
    "::127.0.0.1": "::7f00:1",
    "64:ff9b::a9fe:a9fe": "64:ff9b::a9fe:a9fe",
    "64:ff9b::169.254.169.254": "64:ff9b::a9fe:a9fe",
    "64:ff9b::7f00:1": "64:ff9b::7f00:1",
    "64:ff9b:1::a9fe:a9fe": "64:ff9b:1::a9fe:a9fe",
    "2002:7f00:1::": "2002:7f00:1::",
    "2002:a9fe:a9fe::1": "2002:a9fe:a9fe::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "fe80::1": "fe80::1",
    "fe80::1%eth0": "fe80::1%eth0",
    "fd00:ec2::254": "fd00:ec2::254",
    "ff02::1": "ff02::1",
    "ff0e::1": "ff0e::1",
}

PUBLIC = ["8.8.8.8", "134744072", "0x8.0x8.0x8.0x8", "2606:4700:4700::1111",
          "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize(("host", "address"), REFUSED_LITERALS.items())
def test_every_spelling_of_a_refused_address_is_read_and_refused(host: str,
                                                                   address: str) -> None:
    assert str(parse_ip_literal(host)) == address
    reason = host_refusal(host)
    assert reason is not None
    assert reason.startswith(host.strip("[]"))


@pytest.mark.parametrize("host", PUBLIC)
def test_public_addresses_in_any_spelling_pass(host: str) -> None:
    assert parse_ip_literal(host) is not None
    assert host_refusal(host) is None


def test_the_reason_names_what_the_spelling_means() -> None:
    assert host_refusal("0x7f.1") == "0x7f.1 is 127.0.0.1, which is a loopback address"
    assert host_refusal("64:ff9b::a9fe:a9fe") == (
        "64:ff9b::a9fe:a9fe carries 169.254.169.254, a link-local address (the cloud metadata "
        "range)")
    assert host_refusal("localhost") == "localhost is a local name"
    assert host_refusal("api.LOCALHOST.") == "api.LOCALHOST. is a local name"


@pytest.mark.parametrize("host", ["example.com", "hooks.slack.com", "1.example", "x1",
                                  "0x7f.example", "xn--bcher-kva.example"])
def test_names_are_not_literals(host: str) -> None:
    assert parse_ip_literal(host) is None
    assert host_refusal(host) is None


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.0.0.1", "1.2.3.0x100", "1.16777216",
                                  "4294967296", "08.0.0.1", "1..2", "example.123", "::g"])
def test_a_host_that_ends_in_a_number_must_be_a_valid_address(host: str) -> None:
    with pytest.raises(InvalidHostError):
        host_refusal(host)


@given(st.text(alphabet="0123456789abcdefxX.", min_size=1, max_size=20))
@example("0x")
@example("0x.0")
@example("0x.")
def test_ipv4_parsing_agrees_with_the_platforms_inet_aton(text: str) -> None:
    try:
        expected: str | None = socket.inet_ntoa(socket.inet_aton(text))
    except OSError:
        expected = None
    try:
        parsed = netpolicy.parse_ipv4(text)
    except InvalidHostError:
        parsed = None
    if text.endswith(".") and not text.endswith(".."):
        # inet_aton refuses the trailing dot a URL parser drops; reading it as the address
        # only refuses more.
        expected = expected or (str(parsed) if parsed is not None else None)
    assert (str(parsed) if parsed is not None else None) == expected


def test_resolved_addresses_are_checked_the_same_way() -> None:
    assert refusal(ipaddress.ip_address("64:ff9b::7f00:1")) == (
        "64:ff9b::7f00:1 carries 127.0.0.1, a loopback address")
    assert refusal(ipaddress.ip_address("93.184.215.14")) is None


def test_a_literal_is_never_handed_to_the_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_resolver(*args: object, **kwargs: object) -> object:
        raise AssertionError("the resolver was asked")

    monkeypatch.setattr(socket, "getaddrinfo", no_resolver)
    assert [r.address for r in netpolicy.resolve("0x7f.1", 80)] == [
        ipaddress.ip_address("127.0.0.1")]
    assert [r.sockaddr for r in netpolicy.resolve("::1", 443)] == [("::1", 443, 0, 0)]


def test_the_refusal_names_the_first_reason_and_the_setting_that_allows_it() -> None:
    reasons = netpolicy.refusals("hooks.example.com", [ipaddress.ip_address("93.184.216.34"),
                                                       ipaddress.ip_address("10.0.0.7")])
    assert netpolicy.refusal_message("Webhook host hooks.example.com", reasons,
                                     allow_private=False) == (
        "Webhook host hooks.example.com is refused: 10.0.0.7 is a private address; set "
        "ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES to allow it.")


def test_public_addresses_and_the_allowing_setting_refuse_nothing() -> None:
    public = [ipaddress.ip_address("93.184.216.34")]
    assert netpolicy.refusal_message(
        "h", netpolicy.refusals("example.com", public), allow_private=False) is None
    checked: list[str] = []

    def noted() -> Iterator[str | None]:
        checked.append("read")
        yield "127.0.0.1 is a loopback address"

    assert netpolicy.refusal_message("h", noted(), allow_private=True) is None
    assert checked == []  # with the setting on, no address is even looked at


def test_reasons_are_read_only_up_to_the_first_refusal() -> None:
    reasons = netpolicy.refusals("localhost", [ipaddress.ip_address("127.0.0.1")])
    assert netpolicy.refusal_message("h", reasons, allow_private=False) == (
        "h is refused: localhost is a local name; set ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES to "
        "allow it.")
    assert next(reasons) == "127.0.0.1 is a loopback address"  # left for no one to read
