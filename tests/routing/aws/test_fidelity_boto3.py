"""boto3 against the running server, for the behaviours where the bus follows EventBridge's
documentation and its recorded answers: deletes, PutTargets' whole-call refusals, archives'
SizeBytes, AWS's own messages, tags and UpdateEventBus."""

from __future__ import annotations

import json
from typing import Any

import pytest

from routing.aws.arns import DEAD_LETTER_ARN
from routing.models import ACCOUNT_ID, ArchivedEvent, Event, EventBus, Rule, region
from routing.services import Actor, route_events, rule_put
from tests.routing.aws import shape_check
from tests.routing.aws.conftest import Recorder

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PATTERN = json.dumps({"source": ["shop"]})
ARN = f"arn:aws:events:{region()}:{ACCOUNT_ID}"


def _error(raised: pytest.ExceptionInfo[Any]) -> tuple[int, str, str]:
    response = raised.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


def _shapes_fit(recorder: Recorder) -> None:
    problems = [problem for response in recorder.responses
                for problem in shape_check.response_errors(response.operation, response.status,
                                                           response.body)]
    assert not problems, "\n".join(problems)


# Deletes ---------------------------------------------------------------------------------------

def test_deletes_succeed_as_at_aws(events: Any, recorder: Recorder) -> None:
    # A bus or rule that is not there: 200, nothing to do.
    events.delete_event_bus(Name="never-made")
    events.delete_rule(Name="never-made")
    # A bus whose rules were all deleted.
    events.create_event_bus(Name="orders")
    events.put_rule(Name="r", EventBusName="orders", EventPattern=PATTERN)
    with pytest.raises(events.exceptions.ClientError, match="still has rules") as refused:
        events.delete_event_bus(Name="orders")
    assert _error(refused)[:2] == (400, "ValidationException")
    events.delete_rule(Name="r", EventBusName="orders")
    events.delete_event_bus(Name="orders")
    assert "orders" not in {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name="orders")
    # A bus that only ever received events.
    events.create_event_bus(Name="inbox")
    published = events.put_events(Entries=[{"Source": "my.app", "DetailType": "x",
                                            "Detail": "{}", "EventBusName": "inbox"}])
    assert published["FailedEntryCount"] == 0
    events.delete_event_bus(Name="inbox")
    # Its history stays, and its name is free again.
    assert EventBus.all_objects.get(name="inbox").events.count() == 1
    assert events.create_event_bus(Name="inbox")["EventBusArn"] == f"{ARN}:event-bus/inbox"
    assert EventBus.objects.get(name="inbox").events.count() == 0
    after = events.put_events(Entries=[{"Source": "my.app", "DetailType": "x", "Detail": "{}",
                                        "EventBusName": "inbox"}])
    assert after["FailedEntryCount"] == 0
    # DeleteRule on a bus that is not there is still an error.
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.delete_rule(Name="r", EventBusName="nowhere")
    _shapes_fit(recorder)


# PutTargets ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "words"), [
    ({"Id": "bad id!"}, "Value 'bad id!' at 'targets.2.member.id' failed to satisfy constraint: "
                        r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+"),
    ({"Id": "x" * 65}, "Member must have length less than or equal to 64"),
    ({"Id": "t", "Input": "{}", "InputPath": "$.detail"},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t."),
    ({"Id": "t", "InputTransformer": {"InputPathsMap": {"a": "$.detail"},
                                      "InputTemplate": '{"x": <b>}'}},
     "InputTemplate for target t contains invalid placeholder b."),
    ({"Id": "t", "RetryPolicy": {"MaximumRetryAttempts": 186}},
     "Value '186' at 'targets.2.member.retryPolicy.maximumRetryAttempts' failed to satisfy "
     "constraint: Member must have value less than or equal to 185"),
])
def test_put_targets_refuses_the_whole_call_for_what_aws_refuses(
    events: Any, target: dict[str, Any], words: str,
) -> None:
    events.put_rule(Name="r", EventPattern=PATTERN)
    good = {"Id": "good", "Arn": "https://hooks.example.com/good"}
    with pytest.raises(events.exceptions.ClientError) as refused:
        events.put_targets(Rule="r", Targets=[
            good, {"Arn": "https://hooks.example.com/", **target}])
    status, code, message = _error(refused)
    assert (status, code) == (400, "ValidationException")
    assert words in message
    # Not even the good target was put.
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []


def test_put_targets_limit_refuses_the_whole_call(events: Any) -> None:
    events.put_rule(Name="r", EventPattern=PATTERN)
    six = [{"Id": f"t{n}", "Arn": f"https://hooks.example.com/{n}"} for n in range(6)]
    with pytest.raises(events.exceptions.LimitExceededException) as refused:
        events.put_targets(Rule="r", Targets=six)
    assert _error(refused)[0] == 400
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []
    assert events.put_targets(Rule="r", Targets=six[:5])["FailedEntryCount"] == 0


def test_role_arn_is_given_back_and_input_path_is_allowed_on_a_bus_target(
    events: Any, recorder: Recorder,
) -> None:
    events.create_event_bus(Name="audit")
    events.put_rule(Name="r", EventPattern=PATTERN)
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/events-invoke"
    put = events.put_targets(Rule="r", Targets=[
        {"Id": "hook", "Arn": "https://hooks.example.com/", "RoleArn": role},
        {"Id": "bus", "Arn": f"{ARN}:event-bus/audit", "InputPath": "$"},
        {"Id": "shaped", "Arn": f"{ARN}:event-bus/audit", "Input": '{"a": 1}'},
    ])
    assert [(f["TargetId"], f["ErrorCode"]) for f in put["FailedEntries"]] == [
        ("shaped", "ValidationException")]
    listed = {t["Id"]: t for t in events.list_targets_by_rule(Rule="r")["Targets"]}
    assert listed["hook"]["RoleArn"] == role
    assert "RoleArn" not in listed["bus"]
    assert listed["bus"]["InputPath"] == "$"
    _shapes_fit(recorder)


# Archives --------------------------------------------------------------------------------------

def test_archives_report_size_bytes_and_a_missing_source_is_not_found(
    events: Any, recorder: Recorder,
) -> None:
    events.create_archive(ArchiveName="all", EventSourceArn=f"{ARN}:event-bus/default")
    assert events.describe_archive(ArchiveName="all")["SizeBytes"] == 0
    detail = json.dumps({"drink": "latte"})
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "Order", "Detail": detail,
                                "Resources": ["arn:x"]}])
    described = _wait_for_archived(events)
    # Source + DetailType + Detail + Resources, as AWS sizes an entry.
    assert described["SizeBytes"] >= len("my.app") + len("Order") + len('{"drink":"latte"}')
    [listed] = events.list_archives(EventSourceArn=f"{ARN}:event-bus/default")["Archives"]
    assert listed["SizeBytes"] == described["SizeBytes"]
    with pytest.raises(events.exceptions.ResourceNotFoundException, match="nowhere"):
        events.list_archives(EventSourceArn=f"{ARN}:event-bus/nowhere")
    _shapes_fit(recorder)


def _wait_for_archived(events: Any) -> dict[str, Any]:
    # No worker runs in this test: route the event here, as a worker would.
    route_events([str(pk) for pk in Event.objects.values_list("pk", flat=True)])
    assert ArchivedEvent.objects.count() == 1
    described: dict[str, Any] = events.describe_archive(ArchiveName="all")
    return described


# Messages --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "message"), [
    (lambda events: events.create_event_bus(Name="no spaces"),
     "1 validation error detected: Value 'no spaces' at 'name' failed to satisfy constraint: "
     r"Member must satisfy regular expression pattern: [/\.\-_A-Za-z0-9]+"),
    (lambda events: events.put_rule(Name="x" * 65, EventPattern=PATTERN),
     f"1 validation error detected: Value '{'x' * 65}' at 'name' failed to satisfy constraint: "
     "Member must have length less than or equal to 64"),
    (lambda events: events.put_rule(Name="bad:" + "x" * 64, EventPattern=PATTERN),
     f"2 validation errors detected: Value '{'bad:' + 'x' * 64}' at 'name' failed to satisfy "
     r"constraint: Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+; "
     f"Value '{'bad:' + 'x' * 64}' at 'name' failed to satisfy constraint: Member must have "
     "length less than or equal to 64"),
    (lambda events: events.create_archive(ArchiveName="a/b",
                                          EventSourceArn=f"{ARN}:event-bus/default"),
     "1 validation error detected: Value 'a/b' at 'archiveName' failed to satisfy constraint: "
     r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+"),
    (lambda events: events.test_event_pattern(EventPattern=PATTERN, Event='{"source": "x"}'),
     "Parameter Event is not valid."),
])
def test_validation_messages_are_awss_own(events: Any, call: Any, message: str) -> None:
    with pytest.raises(events.exceptions.ClientError) as refused:
        call(events)
    assert _error(refused) == (400, "ValidationException", message)


# Tags and UpdateEventBus -----------------------------------------------------------------------

def test_tags_on_buses_rules_and_archives(events: Any, recorder: Recorder) -> None:
    team = [{"Key": "team", "Value": "bar"}]
    events.create_event_bus(Name="orders", Tags=team)
    rule_arn = events.put_rule(Name="r", EventBusName="orders", EventPattern=PATTERN,
                               Tags=team)["RuleArn"]
    archive_arn = events.create_archive(ArchiveName="kept",
                                        EventSourceArn=f"{ARN}:event-bus/orders")["ArchiveArn"]
    bus_arn = f"{ARN}:event-bus/orders"
    for arn in (bus_arn, rule_arn, archive_arn):
        events.tag_resource(ResourceARN=arn, Tags=[{"Key": "cost", "Value": "ops"},
                                                   {"Key": "team", "Value": "kitchen"}])
        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
            {"Key": "cost", "Value": "ops"}, {"Key": "team", "Value": "kitchen"}]
        events.untag_resource(ResourceARN=arn, TagKeys=["team", "absent"])
        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
            {"Key": "cost", "Value": "ops"}]
    # PutRule again with Tags adds them; without, leaves them.
    events.put_rule(Name="r", EventBusName="orders", EventPattern=PATTERN)
    events.put_rule(Name="r", EventBusName="orders", EventPattern=PATTERN,
                    Tags=[{"Key": "env", "Value": "prod"}])
    assert {t["Key"] for t in events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"]} == {
        "cost", "env"}
    # The default bus's rules have ARNs without the bus.
    default_rule = events.put_rule(Name="d", EventPattern=PATTERN)["RuleArn"]
    assert default_rule == f"{ARN}:rule/d"
    events.tag_resource(ResourceARN=default_rule, Tags=team)
    assert events.list_tags_for_resource(ResourceARN=default_rule)["Tags"] == team
    _shapes_fit(recorder)


@pytest.mark.parametrize(("tags", "code", "words"), [
    ([{"Key": f"k{n}", "Value": "v"} for n in range(51)], "ValidationException", "at most 50"),
    ([{"Key": "k" * 129, "Value": "v"}], "ValidationException",
     "Member must have length less than or equal to 128"),
    ([{"Key": "k", "Value": "v" * 257}], "ValidationException",
     "Member must have length less than or equal to 256"),
    ([{"Key": "aws:owner", "Value": "me"}], "ValidationException", "reserved for AWS use"),
    ([{"Key": "AWS:owner", "Value": "me"}], "ValidationException", "reserved for AWS use"),
    ([{"Key": "semi;colon", "Value": "v"}], "ValidationException", "is not valid"),
])
def test_tag_limits_are_awss(events: Any, tags: list[dict[str, str]], code: str,
                             words: str) -> None:
    events.create_event_bus(Name="orders")
    with pytest.raises(events.exceptions.ClientError) as refused:
        events.tag_resource(ResourceARN=f"{ARN}:event-bus/orders", Tags=tags)
    status, got_code, message = _error(refused)
    assert (status, got_code) == (400, code)
    assert words in message
    with pytest.raises(events.exceptions.ClientError) as on_create:
        events.create_event_bus(Name="tagged", Tags=tags)
    assert _error(on_create)[1] == code
    assert not EventBus.objects.filter(name="tagged").exists()
    assert events.list_tags_for_resource(ResourceARN=f"{ARN}:event-bus/orders")["Tags"] == []


def test_fifty_tags_fit_and_tags_count_together(events: Any) -> None:
    events.create_event_bus(Name="orders")
    arn = f"{ARN}:event-bus/orders"
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    with pytest.raises(events.exceptions.ClientError, match="at most 50"):
        events.tag_resource(ResourceARN=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    # Replacing a value is no new tag.
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k0", "Value": "changed"}])
    assert len(events.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 50


def test_tags_of_what_is_not_there_or_not_ours(events: Any) -> None:
    for arn in (f"{ARN}:event-bus/nowhere", f"{ARN}:rule/nowhere", f"{ARN}:rule/bus/nowhere",
                f"{ARN}:archive/nowhere"):
        with pytest.raises(events.exceptions.ResourceNotFoundException):
            events.list_tags_for_resource(ResourceARN=arn)
        with pytest.raises(events.exceptions.ResourceNotFoundException):
            events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
        with pytest.raises(events.exceptions.ResourceNotFoundException):
            events.untag_resource(ResourceARN=arn, TagKeys=["k"])
    with pytest.raises(events.exceptions.ClientError) as bad_arn:
        events.list_tags_for_resource(ResourceARN="arn:aws:sqs:us-east-1:1:queue")
    assert _error(bad_arn)[1] == "ValidationException"
    rule_put(bus_name="default", name="owned", event_pattern={"source": ["x"]},
             managed_by="coffeeshop.tests", actor=Actor.system("test"))
    with pytest.raises(events.exceptions.ManagedRuleException):
        events.tag_resource(ResourceARN=f"{ARN}:rule/owned", Tags=[{"Key": "k", "Value": "v"}])
    assert Rule.objects.get(name="owned").tags == {}


def test_update_event_bus(events: Any, recorder: Recorder) -> None:
    events.create_event_bus(Name="orders", Description="first")
    created = events.describe_event_bus(Name="orders")
    updated = events.update_event_bus(Name="orders", Description="second",
                                      DeadLetterConfig={"Arn": DEAD_LETTER_ARN})
    assert updated["Description"] == "second"
    assert updated["DeadLetterConfig"] == {"Arn": DEAD_LETTER_ARN}
    described = events.describe_event_bus(Name="orders")
    assert described["Description"] == "second"
    assert described["DeadLetterConfig"] == {"Arn": DEAD_LETTER_ARN}
    assert described["LastModifiedTime"] >= created["LastModifiedTime"]
    assert EventBus.objects.get(name="orders").dead_letter_enabled
    # Leaving a member out leaves it as it is; an empty DeadLetterConfig turns it off.
    events.update_event_bus(Name="orders")
    assert events.describe_event_bus(Name="orders")["Description"] == "second"
    events.update_event_bus(Name="orders", DeadLetterConfig={})
    assert "DeadLetterConfig" not in events.describe_event_bus(Name="orders")
    with pytest.raises(events.exceptions.ClientError, match=DEAD_LETTER_ARN) as sqs:
        events.update_event_bus(Name="orders", DeadLetterConfig={
            "Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"})
    assert _error(sqs)[1] == "ValidationException"
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.update_event_bus(Name="nowhere", Description="x")
    made = events.create_event_bus(Name="kept", DeadLetterConfig={"Arn": DEAD_LETTER_ARN})
    assert made["DeadLetterConfig"] == {"Arn": DEAD_LETTER_ARN}
    assert EventBus.objects.get(name="kept").dead_letter_enabled
    with pytest.raises(events.exceptions.ClientError, match="KmsKeyIdentifier is not supported"):
        events.update_event_bus(Name="orders", KmsKeyIdentifier="alias/x")
    _shapes_fit(recorder)
