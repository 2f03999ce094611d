"""The pure translation between EventBridge's shapes and the bus's: target ARNs both ways, the
target options, and reading an action's input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing.aws.arns import (
    DEAD_LETTER_ARN,
    target_arn,
    target_from_arn,
    target_spec_from_aws,
    target_to_aws,
)
from routing.aws.params import Params, decode_next_token, encode_next_token
from routing.errors import ValidationError
from routing.models import ACCOUNT_ID, Target, region
from routing.transform.target_input import InputTransformer, TargetInput


@pytest.mark.parametrize(("arn", "kind", "address"), [
    ("https://hooks.example.com/x?token=1", "webhook", "https://hooks.example.com/x?token=1"),
    ("http://127.0.0.1:9000/hook", "webhook", "http://127.0.0.1:9000/hook"),
    ("arn:coffeeshop:handler:::orders.metrics.record", "handler", "orders.metrics.record"),
    ("arn:coffeeshop:channels:::customer.{detail.userId}", "channels",
     "customer.{detail.userId}"),
])
def test_target_arns_round_trip(arn: str, kind: str, address: str) -> None:
    assert target_from_arn(arn) == (kind, address)
    assert target_arn(kind, address) == arn


def test_a_bus_target_is_named_by_its_event_bus_arn() -> None:
    arn = f"arn:aws:events:{region()}:{ACCOUNT_ID}:event-bus/audit"
    assert target_from_arn(arn) == ("bus", "audit")
    assert target_arn("bus", "audit") == arn


@pytest.mark.parametrize("arn", [
    "arn:aws:lambda:us-east-1:123456789012:function:f",
    "arn:aws:sqs:us-east-1:123456789012:queue",
    "arn:coffeeshop:handler:::",
    "ftp://example.com/",
    "orders.metrics.record",
])
def test_other_arns_are_refused_with_the_supported_forms(arn: str) -> None:
    with pytest.raises(ValidationError, match="http\\(s\\):// URL \\(webhook\\)") as refused:
        target_from_arn(arn)
    assert refused.value.field == "Arn"


def test_target_options_and_their_defaults() -> None:
    plain = target_spec_from_aws(Params({"Id": "t", "Arn": "https://example.com/"},
                                        "Targets.1.member"))
    assert (plain.max_retry_attempts, plain.max_event_age_seconds) == (185, 86400)
    assert plain.dead_letter_enabled is False  # EventBridge drops what runs out of retries
    assert plain.target_input == TargetInput()
    full = target_spec_from_aws(Params({
        "Id": "t", "Arn": "https://example.com/",
        "InputTransformer": {"InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": "<a>"},
        "RetryPolicy": {"MaximumRetryAttempts": 5},
        "DeadLetterConfig": {"Arn": DEAD_LETTER_ARN},
        "RoleArn": "arn:aws:iam::123456789012:role/ignored",
    }))
    assert (full.max_retry_attempts, full.max_event_age_seconds) == (5, 86400)
    assert full.dead_letter_enabled is True
    assert full.target_input.input_transformer == InputTransformer("<a>", {"a": "$.detail.a"})
    with pytest.raises(ValidationError, match=DEAD_LETTER_ARN):
        target_spec_from_aws(Params({"Id": "t", "Arn": "https://example.com/",
                                     "DeadLetterConfig": {"Arn": "arn:aws:sqs:x:1:q"}}))
    with pytest.raises(ValidationError, match="EcsParameters is not supported"):
        target_spec_from_aws(Params({"Id": "t", "Arn": "https://example.com/",
                                     "EcsParameters": {"TaskDefinitionArn": "x"}}))
    with pytest.raises(ValidationError, match=r"Value null at 'targets\.1\.member\.id'"):
        target_spec_from_aws(Params({"Arn": "https://example.com/"}, "Targets.1.member"))


def test_a_stored_target_reads_back_as_it_was_put() -> None:
    sent = {"Id": "screen", "Arn": "arn:coffeeshop:channels:::barista.{detail.shop}",
            "InputPath": "$.detail",
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120},
            "DeadLetterConfig": {"Arn": DEAD_LETTER_ARN}}
    spec = target_spec_from_aws(Params(sent))
    stored = Target(target_id=spec.target_id, kind=spec.kind, address=spec.address,
                    input_path=spec.target_input.input_path or "",
                    max_retry_attempts=spec.max_retry_attempts,
                    max_event_age_seconds=spec.max_event_age_seconds,
                    dead_letter_enabled=spec.dead_letter_enabled)
    assert target_to_aws(stored) == sent


def test_params_read_members_in_awss_words() -> None:
    moment = datetime(2026, 11, 29, 9, 30, 15, 250000, tzinfo=UTC)
    params = Params({"Name": 3, "Limit": 0, "Big": 101, "Flag": "yes", "When": moment.timestamp(),
                     "Text": "2026-11-29T09:30:00Z", "Bad": "soon"})
    with pytest.raises(ValidationError, match="Value 3 at 'name' is not valid: expected a string"):
        params.string("Name")
    with pytest.raises(ValidationError, match="Value null at 'missing'"):
        params.required_string("Missing")
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        params.limit()
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        params.integer("Big", maximum=100)
    with pytest.raises(ValidationError, match="expected true or false"):
        params.boolean("Flag")
    assert params.timestamp("When") == moment
    assert params.timestamp("Text") == datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    with pytest.raises(ValidationError, match="expected a timestamp"):
        params.timestamp("Bad")
    assert Params({}).limit() == 100
    with pytest.raises(ValidationError, match="ScheduleExpression is not supported"):
        Params({"ScheduleExpression": "rate(1 day)"}).refuse("ScheduleExpression", why="no.")
    Params({}).refuse("ScheduleExpression", why="no.")


def test_next_tokens_round_trip_and_belong_to_one_list() -> None:
    token = encode_next_token("ListRules", "rule-09")
    assert decode_next_token(Params({"NextToken": token}), "ListRules") == "rule-09"
    assert decode_next_token(Params({}), "ListRules") is None
    for bad in ("", "%%%", token + "x", encode_next_token("ListArchives", "a")):
        with pytest.raises(ValidationError, match="NextToken is not valid"):
            decode_next_token(Params({"NextToken": bad}), "ListRules")
