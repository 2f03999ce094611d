"""Scheduled rules through boto3's `events` client against the real ASGI server: PutRule with
ScheduleExpression round-trips through DescribeRule and ListRules, and is refused as AWS refuses
it (a custom bus, a bad expression)."""

from __future__ import annotations

from typing import Any

import pytest

from routing.models import ACCOUNT_ID, Rule, region
from tests.routing.aws import shape_check
from tests.routing.aws.conftest import Recorder

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_put_rule_with_a_schedule_round_trips(events: Any, recorder: Recorder) -> None:
    arn = events.put_rule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)",
                          Description="the daily reset")["RuleArn"]
    assert arn == f"arn:aws:events:{region()}:{ACCOUNT_ID}:rule/nightly"
    described = events.describe_rule(Name="nightly")
    assert described["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert described["State"] == "ENABLED"
    assert described["EventBusName"] == "default"
    assert "EventPattern" not in described
    listed = events.list_rules(NamePrefix="night")["Rules"]
    assert [(r["Name"], r["ScheduleExpression"]) for r in listed] == [
        ("nightly", "cron(0 3 * * ? *)")]
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 hour)", State="DISABLED")
    assert events.describe_rule(Name="nightly")["ScheduleExpression"] == "rate(1 hour)"
    assert Rule.objects.get(name="nightly").state == "DISABLED"
    for response in recorder.responses:
        assert not shape_check.response_errors(response.operation, response.status,
                                               response.body), response


def test_put_rule_refuses_what_aws_refuses(events: Any) -> None:
    events.create_event_bus(Name="orders")
    with pytest.raises(events.exceptions.ClientError) as custom:
        events.put_rule(Name="tick", EventBusName="orders", ScheduleExpression="rate(5 minutes)")
    assert custom.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "ScheduleExpression is supported only on the default event bus."}
    for bad in ("rate(1 minutes)", "cron(0 3 * * * *)", "cron(0 3 * * ?)", "rate(5 weeks)"):
        with pytest.raises(events.exceptions.ClientError) as invalid:
            events.put_rule(Name="tick", ScheduleExpression=bad)
        assert invalid.value.response["Error"] == {
            "Code": "ValidationException",
            "Message": "Parameter ScheduleExpression is not valid."}, bad
    assert not Rule.objects.filter(name="tick").exists()
