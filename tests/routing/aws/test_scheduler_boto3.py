"""boto3's `scheduler` client against the real ASGI server: every Scheduler action round-trips
(schedules and groups, listing with filters and pages), errors come back as the botocore model
names them, every response fits the model's output shape, and a credential reaches only what it
was given."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.model import ServiceModel

from routing.aws.arns import DEAD_LETTER_ARN
from routing.aws.credentials import awscredential_create
from routing.models import ACCOUNT_ID, Rule, region
from routing.schedules.models import Schedule
from routing.services import Actor, bus_create
from tests.routing.aws import shape_check
from tests.routing.aws.conftest import Credential, Recorder
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/scheduler"
HOOK = "https://hooks.example.com/tick"


@cache
def scheduler_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("scheduler")


def shape_errors(operation: str, status: int, body: Any) -> list[str]:
    if status != 200:
        if not isinstance(body, dict) or set(body) != {"Message"} or not body["Message"]:
            return [f"{operation}: an error body is {{'Message'}}, got {body!r}"]
        return []
    output = scheduler_model().operation_model(operation).output_shape
    problems = shape_check.errors(output, body, operation)
    # The dead-letter store is the bus's own, not an SQS queue (docs/aws-compat.md).
    return [p for p in problems if DEAD_LETTER_ARN not in p]


def scheduler_client(server: AsgiServer, credential: Credential,
                     recorder: Recorder | None = None) -> Any:
    client = boto3.session.Session().client(
        "scheduler", endpoint_url=f"{server.url}/aws/scheduler", region_name=region(),
        aws_access_key_id=credential.access_key_id, aws_secret_access_key=credential.secret,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    if recorder is not None:
        client.meta.events.register("after-call.scheduler", recorder)
    return client


@pytest.fixture
def scheduler(asgi_server: AsgiServer, credential: Credential, recorder: Recorder) -> Any:
    return scheduler_client(asgi_server, credential, recorder)


def arn(kind: str, name: str) -> str:
    return f"arn:aws:scheduler:{region()}:{ACCOUNT_ID}:{kind}/{name}"


def webhook_target(**extra: Any) -> dict[str, Any]:
    return {"Arn": HOOK, "RoleArn": ROLE, **extra}


def error_of(raised: Any) -> dict[str, Any]:
    return {"Code": raised.value.response["Error"]["Code"],
            "Status": raised.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def test_every_action_round_trips(scheduler: Any, recorder: Recorder) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    end = start + timedelta(days=30)
    created = scheduler.create_schedule(
        Name="morning", ScheduleExpression="cron(0 8 ? * MON-FRI *)",
        ScheduleExpressionTimezone="Europe/Berlin", StartDate=start, EndDate=end,
        Description="opening", State="ENABLED",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        Target=webhook_target(Input='{"open": true}',
                              RetryPolicy={"MaximumRetryAttempts": 3,
                                           "MaximumEventAgeInSeconds": 600},
                              DeadLetterConfig={"Arn": DEAD_LETTER_ARN}))
    assert created["ScheduleArn"] == arn("schedule", "default/morning")

    got = scheduler.get_schedule(Name="morning")
    assert got["Arn"] == created["ScheduleArn"]
    assert (got["GroupName"], got["ScheduleExpression"], got["ScheduleExpressionTimezone"]) == (
        "default", "cron(0 8 ? * MON-FRI *)", "Europe/Berlin")
    assert (got["StartDate"], got["EndDate"]) == (start, end)
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    assert got["ActionAfterCompletion"] == "NONE"
    assert got["Target"] == webhook_target(
        Input='{"open": true}',
        RetryPolicy={"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
        DeadLetterConfig={"Arn": DEAD_LETTER_ARN})
    # The webhook rides a carrier rule, which the events API shows as managed.
    schedule = Schedule.objects.get(name="morning")
    assert schedule.carrier_rule is not None
    carrier = schedule.carrier_rule
    assert carrier.managed_by == "scheduler"
    assert carrier.targets.get(deleted_at__isnull=True).address == HOOK

    scheduler.update_schedule(
        Name="morning", ScheduleExpression="at(2030-01-01T09:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"}, State="DISABLED", ActionAfterCompletion="DELETE",
        Target=webhook_target())
    got = scheduler.get_schedule(Name="morning", GroupName="default")
    assert (got["ScheduleExpression"], got["State"], got["ActionAfterCompletion"]) == (
        "at(2030-01-01T09:00:00)", "DISABLED", "DELETE")
    assert got["ScheduleExpressionTimezone"] == "UTC"  # an update replaces every member
    assert "StartDate" not in got
    assert "Description" not in got
    assert got["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert got["Target"] == webhook_target(
        RetryPolicy={"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400})

    group = scheduler.create_schedule_group(Name="shop")
    assert group["ScheduleGroupArn"] == arn("schedule-group", "shop")
    assert scheduler.get_schedule_group(Name="shop")["State"] == "ACTIVE"
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == [
        "default", "shop"]
    assert [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix="sh")[
        "ScheduleGroups"]] == ["shop"]
    scheduler.create_schedule(Name="morning", GroupName="shop", ScheduleExpression="rate(1 day)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=webhook_target())
    listed = scheduler.list_schedules()["Schedules"]
    assert [(s["GroupName"], s["Name"], s["State"]) for s in listed] == [
        ("default", "morning", "DISABLED"), ("shop", "morning", "ENABLED")]
    assert listed[0]["Target"] == {"Arn": HOOK}
    assert [s["GroupName"] for s in scheduler.list_schedules(GroupName="shop")["Schedules"]] == [
        "shop"]
    assert [s["GroupName"] for s in scheduler.list_schedules(State="ENABLED")["Schedules"]] == [
        "shop"]
    assert scheduler.list_schedules(NamePrefix="eve")["Schedules"] == []
    assert scheduler.list_tags_for_resource(ResourceArn=group["ScheduleGroupArn"])["Tags"] == []
    scheduler.tag_resource(ResourceArn=group["ScheduleGroupArn"], Tags=[{"Key": "k", "Value": "v"}])
    assert scheduler.list_tags_for_resource(ResourceArn=group["ScheduleGroupArn"])["Tags"] == [
        {"Key": "k", "Value": "v"}]

    scheduler.delete_schedule(Name="morning")
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name="morning")
    assert Rule.objects.get(pk=carrier.pk).deleted_at is not None
    scheduler.delete_schedule_group(Name="shop")  # and the schedules in it
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule_group(Name="shop")
    assert scheduler.list_schedules()["Schedules"] == []
    scheduler.create_schedule_group(Name="shop")  # the name is free again

    assert recorder.responses
    for response in recorder.responses:
        assert not shape_errors(response.operation, response.status, response.body), response


def test_a_retried_create_with_its_client_token_answers_as_the_first(scheduler: Any) -> None:
    request: dict[str, Any] = {"Name": "once", "ScheduleExpression": "rate(1 hour)",
                               "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": webhook_target(),
                               "ClientToken": "retry-1"}
    first = scheduler.create_schedule(**request)["ScheduleArn"]
    assert scheduler.create_schedule(**request)["ScheduleArn"] == first
    with pytest.raises(scheduler.exceptions.ConflictException):
        scheduler.create_schedule(**{**request, "ClientToken": "another"})
    with pytest.raises(scheduler.exceptions.ConflictException):
        scheduler.create_schedule(**{key: value for key, value in request.items()
                                     if key != "ClientToken"})  # botocore draws a fresh token
    assert Schedule.objects.filter(name="once").count() == 1


def test_listing_pages_with_next_token(scheduler: Any, recorder: Recorder) -> None:
    names = [f"s{index:02d}" for index in range(7)]
    for name in names:
        scheduler.create_schedule(Name=name, ScheduleExpression="rate(5 minutes)",
                                  FlexibleTimeWindow={"Mode": "OFF"}, Target=webhook_target())
    first = scheduler.list_schedules(MaxResults=3)
    assert [s["Name"] for s in first["Schedules"]] == names[:3]
    second = scheduler.list_schedules(MaxResults=3, NextToken=first["NextToken"])
    assert [s["Name"] for s in second["Schedules"]] == names[3:6]
    paged = [s["Name"] for page in scheduler.get_paginator("list_schedules").paginate(
        PaginationConfig={"PageSize": 2}) for s in page["Schedules"]]
    assert paged == names
    for index in range(3):
        scheduler.create_schedule_group(Name=f"g{index}")
    groups = [g["Name"] for page in scheduler.get_paginator("list_schedule_groups").paginate(
        PaginationConfig={"PageSize": 1}) for g in page["ScheduleGroups"]]
    assert groups == ["default", "g0", "g1", "g2"]
    with pytest.raises(scheduler.exceptions.ValidationException):
        scheduler.list_schedules(NextToken="not-a-token")
    for response in recorder.responses:
        assert not shape_errors(response.operation, response.status, response.body), response


def test_errors_are_the_models(scheduler: Any, recorder: Recorder) -> None:
    def create(**overrides: Any) -> Any:
        request = {"Name": "tick", "ScheduleExpression": "rate(5 minutes)",
                   "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": webhook_target(),
                   **overrides}
        return scheduler.create_schedule(**request)

    create()
    with pytest.raises(scheduler.exceptions.ConflictException):
        create()
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        create(Name="other", GroupName="nowhere")
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.update_schedule(Name="missing", ScheduleExpression="rate(5 minutes)",
                                  FlexibleTimeWindow={"Mode": "OFF"}, Target=webhook_target())
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule(Name="missing")
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule_group(Name="missing")
    with pytest.raises(scheduler.exceptions.ConflictException):
        scheduler.create_schedule_group(Name="default")
    with pytest.raises(scheduler.exceptions.ValidationException):
        scheduler.delete_schedule_group(Name="default")
    invalid: list[dict[str, Any]] = [
        {"ScheduleExpression": "rate(1 minutes)"},
        {"ScheduleExpression": "cron(0 8 * * * *)"},
        {"ScheduleExpression": "at(2030-02-30T08:00:00)"},
        {"ScheduleExpression": "at(2020-01-01T08:00:00)"},  # already past
        {"ScheduleExpressionTimezone": "Mars/Olympus"},
        {"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}},
        {"FlexibleTimeWindow": {"Mode": "OFF", "MaximumWindowInMinutes": 5}},
        {"FlexibleTimeWindow": {"Mode": "SOMETIMES"}},
        {"EndDate": datetime.now(UTC) - timedelta(hours=1)},
        {"StartDate": datetime.now(UTC) - timedelta(hours=1)},
        {"StartDate": datetime.now(UTC) + timedelta(days=2),
         "EndDate": datetime.now(UTC) + timedelta(days=1)},
        {"ActionAfterCompletion": "ARCHIVE"},
        {"Target": {"Arn": "arn:aws:sqs:us-east-1:000000000000:queue", "RoleArn": ROLE}},
        {"Target": webhook_target(DeadLetterConfig={
            "Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"})},
        {"Target": webhook_target(Input="not json")},
        {"Target": webhook_target(Input='{"at": <aws.scheduler.scheduled-time>}')},
        {"Target": webhook_target(SqsParameters={"MessageGroupId": "g"})},
        {"Target": webhook_target(RetryPolicy={"MaximumEventAgeInSeconds": 86401})},
        {"Target": {"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default",
                    "RoleArn": ROLE}},  # a bus target needs EventBridgeParameters
        {"Target": {"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default",
                    "RoleArn": ROLE, "Input": "[1]",
                    "EventBridgeParameters": {"Source": "my.app", "DetailType": "T"}}},
        {"Target": {"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default",
                    "RoleArn": ROLE,
                    "EventBridgeParameters": {"Source": "aws.events", "DetailType": "T"}}},
        {"KmsKeyArn": "arn:aws:kms:us-east-1:000000000000:key/k"},
        {"Name": "bad name!"},
    ]
    for overrides in invalid:
        with pytest.raises(scheduler.exceptions.ValidationException) as raised:
            create(**{"Name": "fresh", **overrides})
        assert error_of(raised) == {"Code": "ValidationException", "Status": 400}, overrides
        assert raised.value.response["Error"]["Message"], overrides
    assert list(Schedule.objects.values_list("name", flat=True)) == ["tick"]
    for response in recorder.responses:
        assert not shape_errors(response.operation, response.status, response.body), response


def test_a_bus_target_round_trips_its_event_bridge_parameters(scheduler: Any) -> None:
    bus_create(name="shop", actor=Actor.system("test"))
    target: dict[str, Any] = {
              "Arn": f"arn:aws:events:{region()}:{ACCOUNT_ID}:event-bus/shop", "RoleArn": ROLE,
              "Input": json.dumps({"shop": 7}),
              "EventBridgeParameters": {"Source": "shop.clock", "DetailType": "Open"}}
    scheduler.create_schedule(Name="open", ScheduleExpression="cron(0 7 * * ? *)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    got = scheduler.get_schedule(Name="open")["Target"]
    assert got["EventBridgeParameters"] == {"Source": "shop.clock", "DetailType": "Open"}
    assert got["Input"] == json.dumps({"shop": 7})
    assert Schedule.objects.get(name="open").carrier_rule is None
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.create_schedule(Name="gone", ScheduleExpression="rate(1 hour)",
                                  FlexibleTimeWindow={"Mode": "OFF"},
                                  Target={**target, "Arn": target["Arn"] + "-missing"})


def test_a_credential_reaches_only_what_it_was_given(asgi_server: AsgiServer,
                                                     scheduler: Any) -> None:
    bus_create(name="mine", actor=Actor.system("test"))
    bus_create(name="theirs", actor=Actor.system("test"))
    row, secret = awscredential_create(name="limited", bus_names=["mine"], sources=["my.*"])
    limited = scheduler_client(asgi_server, Credential(row.access_key_id, secret))

    def bus_target(bus: str, source: str = "my.app") -> dict[str, Any]:
        return {"Arn": f"arn:aws:events:{region()}:{ACCOUNT_ID}:event-bus/{bus}",
                "RoleArn": ROLE, "EventBridgeParameters": {"Source": source, "DetailType": "T"}}

    def create(client: Any, name: str, target: dict[str, Any]) -> Any:
        return client.create_schedule(Name=name, ScheduleExpression="rate(1 hour)",
                                      FlexibleTimeWindow={"Mode": "OFF"}, Target=target)

    create(limited, "ok", bus_target("mine"))
    with pytest.raises(limited.exceptions.ClientError) as other_bus:
        create(limited, "other-bus", bus_target("theirs"))
    assert error_of(other_bus) == {"Code": "AccessDeniedException", "Status": 403}
    with pytest.raises(limited.exceptions.ValidationException):
        create(limited, "other-source", bus_target("mine", source="shop.orders"))
    with pytest.raises(limited.exceptions.ClientError) as handler:
        create(limited, "handler", {"Arn": "arn:coffeeshop:handler:::orders.anything",
                                    "RoleArn": ROLE})
    assert error_of(handler) == {"Code": "AccessDeniedException", "Status": 403}
    # Another caller's schedule to a bus it was not given is out of its sight.
    create(scheduler, "theirs", bus_target("theirs"))
    assert [s["Name"] for s in limited.list_schedules()["Schedules"]] == ["ok"]
    with pytest.raises(limited.exceptions.ResourceNotFoundException):
        limited.get_schedule(Name="theirs")
    with pytest.raises(limited.exceptions.ResourceNotFoundException):
        limited.delete_schedule(Name="theirs")
    assert Schedule.objects.filter(name="theirs", deleted_at__isnull=True).exists()


def test_unsigned_and_wrongly_signed_requests_are_refused(asgi_server: AsgiServer,
                                                          credential: Credential) -> None:
    import httpx

    unsigned = httpx.get(f"{asgi_server.url}/aws/scheduler/schedules", timeout=10)
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    wrong = scheduler_client(asgi_server, Credential(credential.access_key_id, "x" * 40))
    with pytest.raises(wrong.exceptions.ClientError) as raised:
        wrong.list_schedules()
    assert error_of(raised) == {"Code": "InvalidSignatureException", "Status": 403}
    # A signature for the events service does not open the scheduler.
    events_signed = boto3.session.Session().client(
        "events", endpoint_url=f"{asgi_server.url}/aws/scheduler/schedules",
        region_name=region(), aws_access_key_id=credential.access_key_id,
        aws_secret_access_key=credential.secret,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    with pytest.raises(events_signed.exceptions.ClientError) as scoped:
        events_signed.list_rules()
    assert scoped.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_schedule_groups_keep_tags_and_schedules_take_none(scheduler: Any,
                                                             recorder: Recorder) -> None:
    group_arn = scheduler.create_schedule_group(
        Name="tagged", Tags=[{"Key": "team", "Value": "bar"}, {"Key": "cost", "Value": "7"}],
    )["ScheduleGroupArn"]

    def tags(resource: str) -> dict[str, str]:
        listed = scheduler.list_tags_for_resource(ResourceArn=resource)["Tags"]
        return {tag["Key"]: tag["Value"] for tag in listed}

    assert tags(group_arn) == {"team": "bar", "cost": "7"}
    scheduler.tag_resource(ResourceArn=group_arn, Tags=[{"Key": "team", "Value": "kitchen"},
                                                         {"Key": "floor", "Value": "1"}])
    assert tags(group_arn) == {"team": "kitchen", "cost": "7", "floor": "1"}
    scheduler.untag_resource(ResourceArn=group_arn, TagKeys=["cost", "floor", "absent"])
    assert tags(group_arn) == {"team": "kitchen"}
    assert tags(arn("schedule-group", "default")) == {}

    refusals = {
        "51 tags": lambda: scheduler.tag_resource(
            ResourceArn=group_arn, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(51)]),
        "aws: prefix": lambda: scheduler.tag_resource(
            ResourceArn=group_arn, Tags=[{"Key": "aws:owner", "Value": "me"}]),
        "on create": lambda: scheduler.create_schedule_group(
            Name="reserved", Tags=[{"Key": "aws:x", "Value": "y"}]),
        "a schedule": lambda: scheduler.tag_resource(
            ResourceArn=arn("schedule", "tagged/morning"), Tags=[{"Key": "a", "Value": "b"}]),
    }
    for what, call in refusals.items():
        with pytest.raises(scheduler.exceptions.ValidationException):
            call()
        assert tags(group_arn) == {"team": "kitchen"}, what
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.tag_resource(ResourceArn=arn("schedule-group", "missing"),
                               Tags=[{"Key": "a", "Value": "b"}])
    # The refused create left no group behind: the name is still free.
    scheduler.create_schedule_group(Name="reserved")

    for response in recorder.responses:
        assert not shape_errors(response.operation, response.status, response.body), response
