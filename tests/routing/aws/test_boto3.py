"""boto3 itself against the real ASGI server: every supported action round-trips, every raw
response fits botocore's service model, and errors arrive as botocore's modeled exceptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from routing.aws.actions import ACTIONS
from routing.aws.actions.destinations import ACTIONS as DESTINATION_ACTIONS
from routing.aws.arns import DEAD_LETTER_ARN, target_spec_from_aws
from routing.aws.params import Params
from routing.handlers import registered_handler_names
from routing.models import ACCOUNT_ID, Event, Rule, Target, region
from routing.patterns import InvalidPatternError, compile_pattern
from routing.services import Actor, rule_put, targets_put
from tests.routing.aws import shape_check
from tests.routing.aws.conftest import Recorder

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ORDERS_PATTERN = {"source": ["coffee.till"],
                  "detail": {"drink": [{"prefix": "Lat"}]}}


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{region()}:{ACCOUNT_ID}:event-bus/{name}"


def test_every_action_round_trips_in_botocores_shapes(events: Any, recorder: Recorder) -> None:
    # Buses.
    created = events.create_event_bus(Name="orders", Description="Order events")
    assert created["EventBusArn"] == bus_arn("orders")
    assert created["Description"] == "Order events"
    by_name = events.describe_event_bus(Name="orders")
    by_arn = events.describe_event_bus(Name=bus_arn("orders"))
    assert by_name["Arn"] == by_arn["Arn"] == bus_arn("orders")
    assert by_name["Description"] == "Order events"
    assert isinstance(by_name["CreationTime"], datetime)
    assert events.describe_event_bus()["Name"] == "default"
    assert [bus["Name"] for bus in events.list_event_buses(NamePrefix="ord")["EventBuses"]] == [
        "orders"
    ]
    events.create_event_bus(Name="scratch", Tags=[{"Key": "team", "Value": "bar"}])
    scratch_arn = bus_arn("scratch")
    assert events.list_tags_for_resource(ResourceARN=scratch_arn)["Tags"] == [
        {"Key": "team", "Value": "bar"}]
    events.tag_resource(ResourceARN=scratch_arn, Tags=[{"Key": "cost", "Value": "ops"}])
    events.untag_resource(ResourceARN=scratch_arn, TagKeys=["team"])
    assert events.list_tags_for_resource(ResourceARN=scratch_arn)["Tags"] == [
        {"Key": "cost", "Value": "ops"}]
    updated = events.update_event_bus(Name="scratch", Description="Scratch space")
    assert (updated["Arn"], updated["Description"]) == (scratch_arn, "Scratch space")
    assert events.describe_event_bus(Name="scratch")["Description"] == "Scratch space"
    events.delete_event_bus(Name="scratch")
    assert "scratch" not in {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}

    # Rules, on the new bus named by its ARN.
    rule_arn = events.put_rule(Name="barista", EventBusName=bus_arn("orders"),
                               EventPattern=json.dumps(ORDERS_PATTERN),
                               Description="Lattes to the barista screen")["RuleArn"]
    assert rule_arn == f"arn:aws:events:{region()}:{ACCOUNT_ID}:rule/orders/barista"
    described = events.describe_rule(Name="barista", EventBusName="orders")
    assert json.loads(described["EventPattern"]) == ORDERS_PATTERN
    assert (described["Arn"], described["State"], described["EventBusName"]) == (
        rule_arn, "ENABLED", "orders")
    assert described["Description"] == "Lattes to the barista screen"
    assert described["CreatedBy"] == ACCOUNT_ID
    events.disable_rule(Name="barista", EventBusName="orders")
    assert events.describe_rule(Name="barista", EventBusName="orders")["State"] == "DISABLED"
    events.enable_rule(Name="barista", EventBusName="orders")
    [listed] = events.list_rules(EventBusName="orders")["Rules"]
    assert (listed["Name"], listed["State"]) == ("barista", "ENABLED")

    # Targets of every kind, each with its options, and one this bus cannot deliver to.
    targets: list[dict[str, Any]] = [
        {"Id": "screen", "Arn": "https://screens.example.com/hook?token=s3cr3t",
         "InputPath": "$.detail",
         "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
         "DeadLetterConfig": {"Arn": DEAD_LETTER_ARN}},
        {"Id": "live", "Arn": "arn:coffeeshop:channels:::customer.{detail.userId}",
         "InputTransformer": {"InputPathsMap": {"drink": "$.detail.drink"},
                              "InputTemplate": '{"drink": <drink>}'}},
        {"Id": "audit", "Arn": bus_arn("default"), "RetryPolicy": {"MaximumRetryAttempts": 0}},
        {"Id": "static", "Arn": "https://static.example.com/", "Input": '{"ping": true}'},
        {"Id": "lambda", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"},
    ]
    handler = next((name for name in registered_handler_names()
                    if not name.startswith("tests.")), None)
    if handler is not None:
        targets.append({"Id": "handler", "Arn": f"arn:coffeeshop:handler:::{handler}"})
    put = events.put_targets(Rule="barista", EventBusName="orders", Targets=targets)
    failed = {entry["TargetId"]: entry for entry in put["FailedEntries"]}
    assert put["FailedEntryCount"] == len(failed) == (3 if handler is not None else 2)
    assert failed["lambda"]["ErrorCode"] == "ValidationException"
    assert "arn:coffeeshop:handler:::NAME" in failed["lambda"]["ErrorMessage"]
    # Handler and Channels targets are the project's own, even for a credential with every bus:
    # the project (or staff) puts them, and ListTargetsByRule still shows them in AWS's shape.
    assert failed["live"]["ErrorCode"] == "AccessDeniedException"
    system_made = [target_spec_from_aws(Params(targets[1], "Targets"))]
    if handler is not None:
        assert failed["handler"]["ErrorCode"] == "AccessDeniedException"
        system_made.append(target_spec_from_aws(Params(targets[-1], "Targets")))
    assert not targets_put(rule=Rule.objects.get(name="barista"), targets=system_made,
                           actor=Actor.system("test"))
    listed_targets = {t["Id"]: t for t in events.list_targets_by_rule(
        Rule="barista", EventBusName="orders")["Targets"]}
    expected = {t["Id"]: t for t in targets if t["Id"] != "lambda"}
    assert set(listed_targets) == set(expected)
    assert listed_targets["screen"] == expected["screen"]
    assert listed_targets["live"] == {
        **expected["live"],
        "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
    }
    assert listed_targets["audit"] == {
        **expected["audit"],
        "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 86400},
    }
    assert listed_targets["static"]["Input"] == '{"ping": true}'
    assert "DeadLetterConfig" not in listed_targets["static"]
    if handler is not None:
        assert listed_targets["handler"]["Arn"] == f"arn:coffeeshop:handler:::{handler}"
    stored = {t.target_id: t for t in Target.objects.filter(deleted_at__isnull=True)}
    assert (stored["screen"].kind, stored["screen"].dead_letter_enabled) == ("webhook", True)
    assert (stored["live"].kind, stored["live"].address) == ("channels", "customer.{detail.userId}")
    assert (stored["audit"].kind, stored["audit"].address) == ("bus", "default")
    assert stored["static"].dead_letter_enabled is False
    assert events.list_rule_names_by_target(
        TargetArn="https://screens.example.com/hook?token=s3cr3t", EventBusName="orders"
    )["RuleNames"] == ["barista"]
    assert events.list_rule_names_by_target(TargetArn=bus_arn("default"),
                                            EventBusName="orders")["RuleNames"] == ["barista"]
    assert events.list_rule_names_by_target(TargetArn="https://elsewhere.example.com/",
                                            EventBusName="orders")["RuleNames"] == []
    removed = events.remove_targets(Rule="barista", EventBusName="orders",
                                    Ids=["static", "nope"])
    assert removed["FailedEntryCount"] == 1
    assert removed["FailedEntries"][0]["TargetId"] == "nope"
    assert removed["FailedEntries"][0]["ErrorCode"] == "ResourceNotFoundException"

    # Patterns and events.
    event = {"id": "1", "account": ACCOUNT_ID, "source": "coffee.till",
             "time": "2026-11-29T09:30:00Z", "region": region(), "detail-type": "Order",
             "detail": {"drink": "Latte"}}
    assert events.test_event_pattern(EventPattern=json.dumps(ORDERS_PATTERN),
                                     Event=json.dumps(event))["Result"] is True
    event["detail"] = {"drink": "Mocha"}
    assert events.test_event_pattern(EventPattern=json.dumps(ORDERS_PATTERN),
                                     Event=json.dumps(event))["Result"] is False
    published = events.put_events(Entries=[
        {"Source": "coffee.till", "DetailType": "OrderManager.MakeOrder",
         "Detail": json.dumps({"drink": "Latte"}), "EventBusName": bus_arn("orders"),
         "Resources": ["arn:coffeeshop:order:::o-1"],
         "Time": datetime(2026, 11, 29, 9, 30, tzinfo=UTC)},
        {"Source": "aws.s3", "DetailType": "x", "Detail": "{}"},
        {"Source": "shop", "DetailType": "x", "Detail": "[1]"},
    ])
    assert published["FailedEntryCount"] == 2
    ok, not_authorized, malformed = published["Entries"]
    stored_event = Event.objects.get(id=ok["EventId"])
    assert stored_event.bus.name == "orders"
    assert stored_event.time == datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    assert stored_event.resources == ["arn:coffeeshop:order:::o-1"]
    assert stored_event.published_by == "aws-credential:boto-tests"
    assert not_authorized["ErrorCode"] == "NotAuthorizedForSourceException"
    assert malformed["ErrorCode"] == "MalformedDetail"

    # Archives and replays.
    archive = events.create_archive(ArchiveName="orders-archive",
                                    EventSourceArn=bus_arn("orders"),
                                    EventPattern=json.dumps({"source": ["shop"]}),
                                    RetentionDays=7, Description="All orders")
    assert archive["ArchiveArn"] == f"arn:aws:events:{region()}:{ACCOUNT_ID}:archive/orders-archive"
    assert archive["State"] == "ENABLED"
    described_archive = events.describe_archive(ArchiveName="orders-archive")
    assert described_archive["EventSourceArn"] == bus_arn("orders")
    assert (described_archive["RetentionDays"], described_archive["EventCount"]) == (7, 0)
    assert json.loads(described_archive["EventPattern"]) == {"source": ["shop"]}
    events.update_archive(ArchiveName="orders-archive", RetentionDays=30)
    [listed_archive] = events.list_archives(EventSourceArn=bus_arn("orders"))["Archives"]
    assert (listed_archive["ArchiveName"], listed_archive["RetentionDays"]) == (
        "orders-archive", 30)
    now = datetime.now(UTC)
    replay = events.start_replay(
        ReplayName="monday", EventSourceArn=archive["ArchiveArn"],
        EventStartTime=now - timedelta(days=1), EventEndTime=now - timedelta(minutes=1),
        Destination={"Arn": bus_arn("orders"), "FilterArns": [rule_arn]},
        Description="Monday again",
    )
    assert replay["ReplayArn"] == f"arn:aws:events:{region()}:{ACCOUNT_ID}:replay/monday"
    assert replay["State"] == "STARTING"
    described_replay = events.describe_replay(ReplayName="monday")
    assert described_replay["Destination"] == {"Arn": bus_arn("orders"),
                                               "FilterArns": [rule_arn]}
    assert described_replay["EventSourceArn"] == archive["ArchiveArn"]
    assert described_replay["Description"] == "Monday again"
    assert abs(described_replay["EventStartTime"] - (now - timedelta(days=1))) < timedelta(
        seconds=1)
    assert [r["ReplayName"] for r in events.list_replays(
        EventSourceArn=archive["ArchiveArn"])["Replays"]] == ["monday"]
    assert events.cancel_replay(ReplayName="monday")["State"] == "CANCELLED"
    with pytest.raises(events.exceptions.IllegalStatusException,
                       match="Replay monday is not in a valid state for this operation"):
        events.cancel_replay(ReplayName="monday")
    events.delete_archive(ArchiveName="orders-archive")
    assert events.list_archives()["Archives"] == []

    # Deleting: a rule with targets needs Force, as in EventBridge.
    with pytest.raises(events.exceptions.ClientError,
                       match="Rule can't be deleted since it has targets") as refused:
        events.delete_rule(Name="barista", EventBusName="orders")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    events.delete_rule(Name="barista", EventBusName="orders", Force=True)
    assert events.list_rules(EventBusName="orders")["Rules"] == []
    assert Rule.objects.get(name="barista").deleted_at is not None

    exercised = {response.operation for response in recorder.responses}
    # Connections and API destinations: tests/routing/aws/test_destinations_boto3.py.
    expected = set(ACTIONS) - set(DESTINATION_ACTIONS)
    assert exercised == expected, f"not exercised: {expected - exercised}"
    problems = [problem for response in recorder.responses
                for problem in shape_check.response_errors(response.operation, response.status,
                                                           response.body)]
    assert not problems, "\n".join(problems)


def test_list_rules_pages_with_limit_and_next_token(events: Any, recorder: Recorder) -> None:
    names = [f"rule-{index:02d}" for index in range(7)] + ["other"]
    for name in names:
        events.put_rule(Name=name, EventPattern='{"source": ["shop"]}')
    seen: list[list[str]] = []
    kwargs: dict[str, Any] = {"NamePrefix": "rule-", "Limit": 3}
    while True:
        page = events.list_rules(**kwargs)
        seen.append([rule["Name"] for rule in page["Rules"]])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == [["rule-00", "rule-01", "rule-02"], ["rule-03", "rule-04", "rule-05"],
                    ["rule-06"]]
    # boto3's own paginator drives the same tokens.
    paginator = events.get_paginator("list_rules")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 5}))
    assert [len(page["Rules"]) for page in pages] == [5, 3]
    assert sorted(rule["Name"] for page in pages for rule in page["Rules"]) == sorted(names)
    # NamePrefix is case-sensitive, as in EventBridge.
    assert events.list_rules(NamePrefix="RULE-")["Rules"] == []

    with pytest.raises(events.exceptions.ClientError, match="less than or equal to 100") as big:
        events.list_rules(Limit=101)
    assert big.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(events.exceptions.ClientError, match="NextToken is not valid") as bad:
        events.list_rules(NextToken="bm90IGEgdG9rZW4")
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    token = events.list_rules(Limit=1)["NextToken"]
    with pytest.raises(events.exceptions.ClientError, match="NextToken is not valid"):
        events.list_event_buses(NextToken=token)  # a token of another list
    problems = [problem for response in recorder.responses
                for problem in shape_check.response_errors(response.operation, response.status,
                                                           response.body)]
    assert not problems, "\n".join(problems)


def test_other_lists_page_too(events: Any) -> None:
    events.put_rule(Name="fan-out", EventPattern='{"source": ["shop"]}')
    events.put_targets(Rule="fan-out", Targets=[
        {"Id": f"t{index}", "Arn": f"https://hooks.example.com/{index}"} for index in range(5)
    ])
    first = events.list_targets_by_rule(Rule="fan-out", Limit=2)
    second = events.list_targets_by_rule(Rule="fan-out", Limit=2, NextToken=first["NextToken"])
    third = events.list_targets_by_rule(Rule="fan-out", Limit=2, NextToken=second["NextToken"])
    assert [[t["Id"] for t in page["Targets"]] for page in (first, second, third)] == [
        ["t0", "t1"], ["t2", "t3"], ["t4"]]
    assert "NextToken" not in third
    for name in ("a-bus", "b-bus", "c-bus"):
        events.create_event_bus(Name=name)
    page = events.list_event_buses(Limit=2)
    rest = events.list_event_buses(Limit=2, NextToken=page["NextToken"])
    names = [bus["Name"] for bus in page["EventBuses"] + rest["EventBuses"]]
    assert names == ["a-bus", "b-bus", "c-bus", "default"]


def test_invalid_pattern_is_invalid_event_pattern_exception_with_the_engines_message(
    events: Any,
) -> None:
    bad = '{"detail": {"price": [{"numeric": [">", "three"]}]}}'
    with pytest.raises(InvalidPatternError) as engine:
        compile_pattern(bad)
    with pytest.raises(events.exceptions.InvalidEventPatternException) as put:
        events.put_rule(Name="broken", EventPattern=bad)
    assert put.value.response["Error"]["Message"] == str(engine.value)
    assert put.value.response["Error"]["Message"].startswith("Event pattern is not valid.")
    assert put.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert put.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == (
        "InvalidEventPatternException")
    event = json.dumps({"id": "1", "account": ACCOUNT_ID, "source": "shop",
                        "time": "2026-11-29T09:30:00Z", "region": region(),
                        "detail-type": "x", "detail": {}})
    with pytest.raises(events.exceptions.InvalidEventPatternException) as tested:
        events.test_event_pattern(EventPattern=bad, Event=event)
    assert tested.value.response["Error"]["Message"] == str(engine.value)
    with pytest.raises(events.exceptions.ClientError,
                       match=r"\(reached max retries: 0\): Parameter Event is not valid\.$"
                       ) as no_region:
        events.test_event_pattern(EventPattern='{"source": ["shop"]}',
                                  Event=json.dumps({k: v for k, v in json.loads(event).items()
                                                    if k != "region"}))
    assert no_region.value.response["Error"]["Code"] == "ValidationException"
    assert not Rule.objects.filter(name="broken").exists()


def test_errors_are_botocores_modeled_exceptions(events: Any, recorder: Recorder) -> None:
    with pytest.raises(events.exceptions.ResourceNotFoundException,
                       match="Rule ghost does not exist on EventBus default"):
        events.describe_rule(Name="ghost")
    with pytest.raises(events.exceptions.ResourceNotFoundException,
                       match="Event bus nowhere does not exist"):
        events.list_rules(EventBusName="nowhere")
    events.create_event_bus(Name="twice")
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException,
                       match="Event bus twice already exists"):
        events.create_event_bus(Name="twice")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_archive(ArchiveName="ghost")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_replay(ReplayName="ghost")
    with pytest.raises(events.exceptions.ClientError, match="Cannot delete event bus default"):
        events.delete_event_bus(Name="default")
    with pytest.raises(events.exceptions.ClientError,
                       match="Parameter ScheduleExpression is not valid") as schedule:
        events.put_rule(Name="nightly", ScheduleExpression="rate(1 days)")
    assert schedule.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(events.exceptions.ClientError,
                       match=r"Parameter\(s\) EventPattern or ScheduleExpression must be"):
        events.put_rule(Name="nothing")
    with pytest.raises(events.exceptions.ClientError, match="LogConfig is not supported"):
        events.create_event_bus(Name="logged", LogConfig={"Level": "INFO"})
    with pytest.raises(events.exceptions.ClientError, match="less than or equal to 10") as many:
        events.put_events(Entries=[{"Source": "shop", "DetailType": "x", "Detail": "{}"}] * 11)
    assert many.value.response["Error"]["Code"] == "ValidationException"
    for error in [r for r in recorder.responses if r.status != 200]:
        assert error.status == 400, error
        assert error.headers["x-amzn-errortype"] == error.body["__type"]
        assert error.headers["content-type"] == "application/x-amz-json-1.1"
        assert not shape_check.response_errors(error.operation, error.status, error.body)


def test_put_targets_limits(events: Any) -> None:
    events.put_rule(Name="busy", EventPattern='{"source": ["shop"]}')
    eleven = [{"Id": f"t{index}", "Arn": f"https://hooks.example.com/{index}"}
              for index in range(11)]
    with pytest.raises(events.exceptions.ClientError,
                       match="Member must have length less than or equal to 10") as too_many:
        events.put_targets(Rule="busy", Targets=eleven)
    assert too_many.value.response["Error"]["Code"] == "ValidationException"
    assert events.put_targets(Rule="busy", Targets=eleven[:4])["FailedEntryCount"] == 0
    # A rule holds at most five targets: a call that would pass that is refused whole, as AWS.
    with pytest.raises(events.exceptions.LimitExceededException,
                       match="maximum number allowed"):
        events.put_targets(Rule="busy", Targets=eleven[4:7])
    assert len(events.list_targets_by_rule(Rule="busy")["Targets"]) == 4
    assert events.put_targets(Rule="busy", Targets=eleven[4:5])["FailedEntryCount"] == 0
    # Replacing an existing target is no new target.
    replaced = events.put_targets(Rule="busy", Targets=[
        {"Id": "t0", "Arn": "https://hooks.example.com/new"}])
    assert replaced["FailedEntryCount"] == 0
    # What this bus cannot deliver to still fails target by target.
    bad = events.put_targets(Rule="busy", Targets=[
        {"Id": "t2", "Arn": "https://hooks.example.com/2", "DeadLetterConfig": {
            "Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"}},
        {"Id": "t3", "Arn": "https://hooks.example.com/3", "SqsParameters": {
            "MessageGroupId": "g"}},
    ])
    assert [f["TargetId"] for f in bad["FailedEntries"]] == ["t2", "t3"]
    assert all(f["ErrorCode"] == "ValidationException" for f in bad["FailedEntries"])
    messages = [f["ErrorMessage"] for f in bad["FailedEntries"]]
    assert DEAD_LETTER_ARN in messages[0]
    assert "SqsParameters is not supported" in messages[1]


def test_endpoint_url_with_or_without_trailing_slash(client_for: Any, credential: Any) -> None:
    for path in ("/aws/events", "/aws/events/"):
        client = client_for(credential, path=path)
        assert client.list_event_buses()["EventBuses"][0]["Name"] == "default"


def test_put_events_counts_1_mb_over_the_whole_request_as_aws_does(events: Any) -> None:
    def entry(size: int, **extra: Any) -> dict[str, Any]:
        # Source + DetailType + Detail (+ Resources, + 14 for Time), in UTF-8 bytes: what
        # AWS's "Calculating PutEvents event entry size" counts.
        used = len("s") + len("t") + len('{"p":""}') + sum(map(len, extra.get("Resources", [])))
        used += 14 if "Time" in extra else 0
        filler = "é" * ((size - used) // 2) + "x" * ((size - used) % 2)
        return {"Source": "s", "DetailType": "t",
                "Detail": json.dumps({"p": filler}, separators=(",", ":"),
                                     ensure_ascii=False), **extra}

    limit = 1024 * 1024
    # One entry of a whole megabyte (over the old 256 KB per entry) is accepted.
    [stored] = events.put_events(Entries=[entry(limit)])["Entries"]
    assert "EventId" in stored
    # Four entries that sum to the limit, Time and Resources counted, are accepted ...
    quarter = limit // 4
    parts = [entry(quarter), entry(quarter, Time=datetime.now(UTC)),
             entry(quarter, Resources=["arn:aws:s3:::bucket"]), entry(quarter)]
    assert events.put_events(Entries=parts)["FailedEntryCount"] == 0
    # ... and one byte more refuses the whole request, in AWS's words.
    before = Event.objects.count()
    parts[-1] = entry(quarter + 1)
    with pytest.raises(events.exceptions.ClientError) as refused:
        events.put_events(Entries=parts)
    assert refused.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Total size of the entries in the request is over the limit."}
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert Event.objects.count() == before


def test_rules_a_system_feature_manages_are_managed_rule_exceptions(events: Any) -> None:
    rule_put(bus_name="default", name="system-owned", event_pattern={"source": ["shop"]},
             managed_by="coffeeshop.tests", actor=Actor.system("test"))
    [listed] = events.list_rules(NamePrefix="system")["Rules"]
    assert listed["ManagedBy"] == "coffeeshop.tests"
    for call in (lambda: events.disable_rule(Name="system-owned"),
                 lambda: events.delete_rule(Name="system-owned", Force=True),
                 lambda: events.put_targets(Rule="system-owned", Targets=[
                     {"Id": "t", "Arn": "https://hooks.example.com/"}])):
        with pytest.raises(events.exceptions.ManagedRuleException, match="is managed by"):
            call()
    assert events.describe_rule(Name="system-owned")["State"] == "ENABLED"
