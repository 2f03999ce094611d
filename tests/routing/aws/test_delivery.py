"""End to end through EventBridge's protocol: a rule and a webhook target made with boto3 (and with
the AWS CLI), an event published with boto3, a real Celery worker delivering it to a real HTTP
server. Also runs the snippet and the CLI line `manage.py awscredential create` prints."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from routing.aws.credentials import awscredential_create
from routing.models import Delivery, DeliveryStatus, Event
from tests.support.processes import AsgiServer, CeleryWorker
from tests.support.webhook_server import WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

AWS_CLI = Path(sys.executable).with_name("aws")


def test_put_events_with_boto3_is_delivered_to_a_webhook_target(
    events: Any, celery_worker: CeleryWorker, webhook_server: WebhookServer,
) -> None:
    events.put_rule(Name="barista-screen", EventPattern=json.dumps({
        "source": ["coffee.till"], "detail": {"drink": ["Latte"]}}))
    put = events.put_targets(Rule="barista-screen", Targets=[{
        "Id": "screen",
        "Arn": f"{webhook_server.url}/orders",
        "InputTransformer": {"InputPathsMap": {"order": "$.detail.orderId"},
                             "InputTemplate": '{"order": <order>, "rule": <aws.events.rule-name>}'},
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
    }])
    assert (put["FailedEntryCount"], put["FailedEntries"]) == (0, [])
    published = events.put_events(Entries=[
        {"Source": "coffee.till", "DetailType": "OrderManager.MakeOrder",
         "Detail": json.dumps({"orderId": "o-42", "drink": "Latte"})},
        {"Source": "coffee.till", "DetailType": "OrderManager.MakeOrder",
         "Detail": json.dumps({"orderId": "o-43", "drink": "Mocha"})},
    ])
    assert published["FailedEntryCount"] == 0
    latte_id = published["Entries"][0]["EventId"]

    [request] = webhook_server.wait_for(1, path="/orders")
    assert json.loads(request.body) == {"order": "o-42", "rule": "barista-screen"}
    delivery = Delivery.objects.get(event_id=latte_id)
    assert request.headers["idempotency-key"] == str(delivery.id)
    _wait_until(lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED)
    assert not Delivery.objects.exclude(event_id=latte_id).exists()  # the Mocha matched nothing
    assert len(webhook_server.received("/orders")) == 1


def _wait_until(condition: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _printed_credential(settings: Any, asgi_server: AsgiServer) -> str:
    settings.PORT = asgi_server.port
    out = io.StringIO()
    call_command("awscredential", "create", "copy-paste", stdout=out)
    return out.getvalue()


def _isolated_aws_environment(tmp_path: Path) -> dict[str, str]:
    """No AWS configuration of the machine's user may leak into what is being tested."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
               AWS_EC2_METADATA_DISABLED="true",
               PATH=f"{AWS_CLI.parent}{os.pathsep}{env.get('PATH', '')}")
    return env


def test_the_printed_boto3_snippet_works(settings: Any, asgi_server: AsgiServer,
                                         tmp_path: Path) -> None:
    output = _printed_credential(settings, asgi_server)
    snippet = output.split("From Python (boto3):\n", 1)[1].split("From the AWS CLI:", 1)[0]
    ran = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                         env=_isolated_aws_environment(tmp_path), timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    assert "'FailedEntryCount': 0" in ran.stdout
    [event_id] = re.findall(r"'EventId': '([0-9a-f-]{36})'", ran.stdout)
    event = Event.objects.get(id=event_id)
    assert (event.source, event.detail) == ("my.app", {"hello": "world"})
    assert event.published_by == "aws-credential:copy-paste"


@pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI (pip package awscli) is not "
                                                 "installed in this environment")
def test_the_printed_aws_cli_line_works(settings: Any, asgi_server: AsgiServer,
                                        tmp_path: Path) -> None:
    output = _printed_credential(settings, asgi_server)
    line = output.split("From the AWS CLI:\n", 1)[1].splitlines()[0]
    assert line.startswith("AWS_ACCESS_KEY_ID=")
    ran = subprocess.run(["bash", "-c", line], capture_output=True, text=True,
                         env=_isolated_aws_environment(tmp_path), timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["FailedEntryCount"] == 0
    event = Event.objects.get(id=result["Entries"][0]["EventId"])
    assert event.published_by == "aws-credential:copy-paste"

    # And the CLI's other commands speak the same protocol: a rule, read back.
    access_key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", line)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", line)
    assert access_key is not None
    assert secret is not None
    env = {**_isolated_aws_environment(tmp_path), "AWS_ACCESS_KEY_ID": access_key.group(1),
           "AWS_SECRET_ACCESS_KEY": secret.group(1), "AWS_DEFAULT_REGION": event.region}
    endpoint = ["--endpoint-url", f"{asgi_server.url}/aws/events"]

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(AWS_CLI), "events", *args, *endpoint], capture_output=True,
                              text=True, env=env, timeout=60, check=False)

    created = aws("put-rule", "--name", "from-cli", "--event-pattern", '{"source": ["my.app"]}')
    assert created.returncode == 0, created.stderr
    described = json.loads(aws("describe-rule", "--name", "from-cli").stdout)
    assert json.loads(described["EventPattern"]) == {"source": ["my.app"]}
    refused = aws("describe-rule", "--name", "ghost")
    assert refused.returncode != 0
    assert "ResourceNotFoundException" in refused.stderr


@pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI (pip package awscli) is not "
                                                 "installed in this environment")
def test_the_snippets_in_the_readme_and_docs_work_as_written(asgi_server: AsgiServer,
                                                              tmp_path: Path) -> None:
    credential, secret = awscredential_create(name="docs")
    root = Path(__file__).resolve().parents[3]
    text = (root / "README.md").read_text() + (root / "docs" / "aws-compat.md").read_text()
    cli_lines = re.findall(
        r"^    AWS_ACCESS_KEY_ID=CSAK\.\.\. AWS_SECRET_ACCESS_KEY=\.\.\. \\\n(.*?)\n\n", text,
        re.MULTILINE | re.DOTALL)
    snippets = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert (len(cli_lines), len(snippets)) == (2, 3)
    env = {**_isolated_aws_environment(tmp_path), "AWS_ACCESS_KEY_ID": credential.access_key_id,
           "AWS_SECRET_ACCESS_KEY": secret}
    for line in cli_lines:
        command = line.replace("\\\n", " ").replace("http://localhost:8000", asgi_server.url)
        ran = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env,
                             timeout=60, check=False)
        assert ran.returncode == 0, ran.stderr
    for snippet in snippets:
        code = (snippet.replace("http://localhost:8000", asgi_server.url)
                .replace('"CSAK..."', repr(credential.access_key_id))
                .replace('"..."', repr(secret)))
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=60, check=False)
        assert ran.returncode == 0, ran.stderr
    published = Event.objects.filter(published_by="aws-credential:docs")
    assert [(event.source, event.detail) for event in published] == [
        ("my.app", {"hello": "world"})] * 4
