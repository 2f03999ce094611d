"""Attacks on the webhook sender, with a real HTTP(S) listener on 127.0.0.1 standing for whatever
the bus's own network can reach: DNS rebinding, a name with one private address among public
ones, literal spellings stored before they were refused, redirects; and the pinned connection
still verifies TLS against the hostname."""

from __future__ import annotations

import datetime
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from routing import netpolicy
from routing.models import EventBus, Rule, Target, TargetKind
from routing.services import Actor, rule_put
from routing.targets import webhook
from routing.targets.base import AttemptFailure, DeliveryContext
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import Reply, WebhookServer

pytestmark = pytest.mark.django_db

# A loopback alias the tests declare "public" (fixture `stand_in_public`), so that every packet
# these attacks send stays on this machine while the policy treats this one address as global.
PUBLIC_IP = "127.0.0.2"
AddrInfo = list[tuple[Any, ...]]


def addrinfo(ip: str, port: int) -> AddrInfo:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]


class Resolver:
    """Stands in for DNS: answers each name from a script of answers, and records each call."""

    def __init__(self, answers: Callable[[str, int, int], AddrInfo]) -> None:
        self.calls: list[str] = []
        self._answers = answers

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> AddrInfo:
        self.calls.append(host)
        return self._answers(host, int(port), len(self.calls))


@pytest.fixture
def listener() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


@pytest.fixture
def rule(db: None) -> Rule:
    EventBus.objects.get_or_create(name="default")
    return rule_put(bus_name="default", name="hooks", actor=Actor.system("test"),
                    event_pattern={"source": ["shop"]})


@pytest.fixture
def production_policy(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    real_refusal = netpolicy.refusal

    def refusal(address: Any) -> str | None:
        return None if str(address) == PUBLIC_IP else real_refusal(address)

    monkeypatch.setattr(netpolicy, "refusal", refusal)


@pytest.fixture
def public_server() -> Iterator[WebhookServer]:
    """The server the name really belongs to, on the stand-in public address."""
    server = WebhookServer(host=PUBLIC_IP).start()
    yield server
    server.stop()


def stored_target(rule: Rule, address: str, *, timeout: float = 1.0) -> Target:
    # Straight into the table, as a row from before creation refused it would be: the send-time
    # check is the one under test.
    return Target.objects.create(rule=rule, target_id="hook", kind=TargetKind.WEBHOOK,
                                 address=address, webhook_timeout_seconds=timeout)


def context() -> DeliveryContext:
    return DeliveryContext(event={}, event_id="e1", bus_name="default", rule_name="hooks",
                           rule_arn="arn:rule", target_id="hook", delivery_id="d1", attempt=1,
                           publisher=TEST_PUBLISHER)


def send(target: Target) -> int | None:
    return webhook.send(target, '{"n": 1}', context())


@pytest.mark.usefixtures("production_policy")
def test_a_rebinding_name_never_reaches_loopback(
    rule: Rule, public_server: WebhookServer, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest
) -> None:
    # Public on the first answer (what a check sees), loopback on every later one (what a
    # client that resolves again would connect to). The loopback listener shares the public
    # server's port, so a second resolution would land on it.
    listener = WebhookServer(port=public_server.port).start()
    request.addfinalizer(listener.stop)
    resolver = Resolver(lambda host, port, call: addrinfo(PUBLIC_IP if call == 1 else "127.0.0.1",
                                                          port))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    target = stored_target(rule, f"http://rebind.test:{public_server.port}/hook", timeout=2.0)

    send(target)

    assert len(public_server.received()) == 1
    assert listener.received() == []
    assert resolver.calls == ["rebind.test"]


@pytest.mark.usefixtures("production_policy")
def test_one_private_address_among_public_ones_refuses_the_name(
    rule: Rule, listener: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = Resolver(lambda host, port, call: addrinfo(PUBLIC_IP, port)
                        + addrinfo("127.0.0.1", port))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    with pytest.raises(AttemptFailure) as failure:
        send(stored_target(rule, f"http://mixed.test:{listener.port}/hook"))

    assert (failure.value.code, failure.value.retryable) == ("NO_PERMISSIONS", False)
    assert "127.0.0.1 is a loopback address" in failure.value.message
    assert listener.received() == []


@pytest.mark.usefixtures("production_policy")
@pytest.mark.parametrize("host", ["0x7f.1", "2130706433", "127.1", "0x7f.0.0.1",
                                  "[::ffff:127.0.0.1]", "[64:ff9b::a9fe:a9fe]",
                                  "[64:ff9b::7f00:1]", "[2002:7f00:1::]"])
def test_a_stored_literal_spelling_is_refused_at_send_time(
    rule: Rule, listener: WebhookServer, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    resolver = Resolver(lambda host, port, call: addrinfo(PUBLIC_IP, port))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    with pytest.raises(AttemptFailure) as failure:
        send(stored_target(rule, f"http://{host}:{listener.port}/hook"))

    assert (failure.value.code, failure.value.retryable) == ("NO_PERMISSIONS", False)
    assert listener.received() == []
    assert resolver.calls == []


def test_when_private_addresses_are_allowed_the_checked_address_is_still_the_one_used(
    rule: Rule, listener: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = Resolver(lambda host, port, call: addrinfo("127.0.0.1", port))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    assert send(stored_target(rule, f"http://hook.test:{listener.port}/hook")) == 200

    [request] = listener.received("/hook")
    assert request.headers["host"] == f"hook.test:{listener.port}"
    assert resolver.calls == ["hook.test"]


def test_redirects_are_not_followed(rule: Rule, listener: WebhookServer) -> None:
    listener.responder = lambda request: (
        Reply(status=302, headers={"Location": "/elsewhere"}) if request.path == "/hook"
        else Reply())

    with pytest.raises(AttemptFailure) as failure:
        send(stored_target(rule, f"{listener.url}/hook"))

    assert (failure.value.code, failure.value.retryable) == ("HTTP302", False)
    assert [request.path for request in listener.received()] == ["/hook"]


# TLS ------------------------------------------------------------------------------------------

def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_listener(tmp_path: Path, settings: Any) -> Iterator[tuple[WebhookServer, list[str]]]:
    cert_path, key_path = self_signed(tmp_path, "hook.test")
    settings.ROUTING_WEBHOOK_CA_BUNDLE = str(cert_path)
    server_names: list[str] = []
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_path, key_path)
    tls.sni_callback = lambda sock, name, context: server_names.append(name) and None
    server = WebhookServer(tls=tls).start()
    yield server, server_names
    server.stop()


def test_https_to_a_pinned_address_keeps_sni_host_and_certificate_checks(
    rule: Rule, tls_listener: tuple[WebhookServer, list[str]],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    server, server_names = tls_listener
    resolver = Resolver(lambda host, port, call: addrinfo("127.0.0.1", port))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    assert send(stored_target(rule, f"https://hook.test:{server.port}/hook")) == 200

    [request] = server.received("/hook")
    assert request.headers["host"] == f"hook.test:{server.port}"
    assert server_names == ["hook.test"]
    assert resolver.calls == ["hook.test"]


def test_https_refuses_a_certificate_for_another_name(
    rule: Rule, tls_listener: tuple[WebhookServer, list[str]],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    server, server_names = tls_listener
    monkeypatch.setattr(socket, "getaddrinfo",
                        Resolver(lambda host, port, call: addrinfo("127.0.0.1", port)))

    with pytest.raises(AttemptFailure) as failure:
        send(stored_target(rule, f"https://impostor.test:{server.port}/hook"))

    assert failure.value.code == "ConnectionError"
    assert "CERTIFICATE_VERIFY_FAILED" in failure.value.message
    assert server_names == ["impostor.test"]
    assert server.received() == []
