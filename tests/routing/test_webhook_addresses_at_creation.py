"""Every spelling of a refused webhook address is refused when the target is made, through every
door that makes one (the services, EventBridge's PutTargets over HTTP with boto3, the dashboard's
target form, the admin), with a message naming the URL, and nothing is saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from routing.aws.credentials import awscredential_create
from routing.models import EventBus, Rule, Target
from routing.services import Actor, TargetSpec, rule_put, targets_put
from tests.routing.aws.conftest import Credential, make_client
from tests.routing.dashboard.test_rules_support import client_for, make_user

# Loopback, the metadata address and private ranges, each as a resolver would still read it.
REFUSED_HOSTS = [
    "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "0x7f.1", "0x7f000001",
    "127.0.0.1.", "0", "0.0.0.0", "169.254.169.254", "2852039166", "0xa9fea9fe",  # noqa: S104
    "10.0.0.1",
    "0xa.1", "100.100.100.200", "224.0.0.1",
    "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::ffff:169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]", "[64:ff9b::169.254.169.254]", "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]", "[2002:a9fe:a9fe::]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
    "[fe80::1]", "[fd00:ec2::254]", "[ff02::1]", "localhost", "hooks.localhost",
    "1.2.3.4.5", "256.1.1.1",
]
ACCEPTED_URLS = ["https://hooks.example.com/x", "http://8.8.8.8/x", "http://134744072/x",
                 "http://[2606:4700:4700::1111]:8443/x", "http://[64:ff9b::808:808]/x"]


@pytest.fixture
def production_policy(settings: Any) -> None:
    settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


def make_rule() -> Rule:
    EventBus.objects.get_or_create(name="default")
    return rule_put(bus_name="default", name="hooks", actor=Actor.system("test"),
                    event_pattern={"source": ["shop"]})


def hook_url(host: str) -> str:
    return f"http://{host}:8080/hook?token=sekrit"


def assert_refusal_names_the_url(message: str, host: str) -> None:
    assert f"Webhook URL http://{host}:8080 is refused" in message, message
    assert "sekrit" not in message


@pytest.mark.django_db
@pytest.mark.usefixtures("production_policy")
def test_the_services_refuse_every_spelling() -> None:
    rule = make_rule()
    specs = [TargetSpec(f"h{i}", "webhook", hook_url(host)) for i, host in enumerate(REFUSED_HOSTS)]
    failures = targets_put(rule=rule, targets=specs, actor=Actor.system("test"))
    assert [f.target_id for f in failures] == [spec.target_id for spec in specs]
    for failure, host in zip(failures, REFUSED_HOSTS, strict=True):
        assert failure.code == "ValidationException"
        assert_refusal_names_the_url(failure.message, host)
    assert not Target.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("production_policy")
def test_the_services_accept_public_addresses_and_names() -> None:
    rule = make_rule()
    specs = [TargetSpec(f"h{i}", "webhook", url) for i, url in enumerate(ACCEPTED_URLS)]
    assert targets_put(rule=rule, targets=specs, actor=Actor.system("test")) == []
    assert Target.objects.filter(deleted_at__isnull=True).count() == len(ACCEPTED_URLS)


@pytest.mark.django_db
def test_with_private_addresses_allowed_a_spelling_still_has_to_be_an_address() -> None:
    rule = make_rule()
    failures = targets_put(rule=rule, actor=Actor.system("test"), targets=[
        TargetSpec("ok", "webhook", "http://0x7f.1:9/x"),
        TargetSpec("bad", "webhook", "http://1.2.3.4.5/x"),
    ])
    assert [(f.target_id, f.message) for f in failures] == [
        ("bad", "Webhook URL http://1.2.3.4.5 is refused: 1.2.3.4.5 is not a valid IPv4 "
                "address.")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("production_policy")
def test_put_targets_over_http_refuses_every_spelling(live_server: Any) -> None:
    make_rule()
    row, secret = awscredential_create(name="ssrf")
    events = make_client(f"{live_server.url}/aws/events", Credential(row.access_key_id, secret))
    failed: list[dict[str, str]] = []
    for start in range(0, len(REFUSED_HOSTS), 10):  # PutTargets takes ten at a time
        failed += events.put_targets(Rule="hooks", Targets=[
            {"Id": f"h{i}", "Arn": hook_url(host)}
            for i, host in enumerate(REFUSED_HOSTS) if start <= i < start + 10
        ])["FailedEntries"]
    for entry, host in zip(failed, REFUSED_HOSTS, strict=True):
        assert entry["ErrorCode"] == "ValidationException"
        assert_refusal_names_the_url(entry["ErrorMessage"], host)
    assert events.list_targets_by_rule(Rule="hooks")["Targets"] == []


def target_form(address: str) -> dict[str, str]:
    data = {"target_id": "hook", "kind": "webhook", "address": address,
            "webhook_timeout_seconds": "5", "input_mode": "event", "input": "",
            "input_path": "", "input_transformer": "", "max_retry_attempts": "185",
            "max_event_age_seconds": "86400", "dead_letter_enabled": "on"}
    return {f"new-{key}": value for key, value in data.items()}


@pytest.mark.django_db
@pytest.mark.usefixtures("production_policy")
@pytest.mark.parametrize("host", ["0x7f.1", "2852039166", "[64:ff9b::a9fe:a9fe]",
                                  "[::ffff:127.0.0.1]", "[2002:7f00:1::]"])
def test_the_dashboard_form_refuses_a_spelling_on_its_address_field(host: str) -> None:
    rule = make_rule()
    client: Client = client_for(make_user("ops"))
    response = client.post(reverse("dashboard-rules:target-add", args=[rule.pk]),
                           target_form(hook_url(host)))
    assert response.status_code == 400
    [message] = response.context["new_form"].errors["address"]
    assert_refusal_names_the_url(message, host)
    assert not Target.objects.exists()
